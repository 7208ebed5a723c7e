/*
 * journal.c - the crash-proof record of accepted jobs. See journal.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "request.h"

/* The longest record head, "J <20 digits> <20 digits>\n". */
enum { RECORD_HEAD_MAX = 48 };

int journal_open(struct journal *j, const char *path)
{
	memset(j, 0, sizeof *j);
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd == -1 || (j->reader = fopen(path, "r")) == NULL) {
		fprintf(stderr, "open journal %s: %s\n", path, strerror(errno));
		if (j->fd != -1)
			close(j->fd);
		j->fd = -1;
		return -1;
	}
	return 0;
}

/* Reads a job record's body into the read buffer. Returns 1; 0 if the record is cut short (the
 * file ends first) or damaged; or -1, with a message, if it cannot be read - which says nothing
 * about the record, so it must not be taken for a torn one. */
static int read_body(struct journal *j, struct journal_record *rec)
{
	if (rec->len > REQUEST_BODY_MAX)
		return 0; /* No job is that large: the head was damaged. */
	if (rec->len + 1 > j->cap) {
		unsigned char *bigger = realloc(j->buf, rec->len + 1);
		if (bigger == NULL) {
			fprintf(stderr, "read journal: %s\n", strerror(errno));
			return -1;
		}
		j->buf = bigger;
		j->cap = rec->len + 1;
	}
	if (fread(j->buf, 1, rec->len + 1, j->reader) != rec->len + 1) {
		if (!ferror(j->reader))
			return 0;
		fprintf(stderr, "read journal: %s\n", strerror(errno));
		return -1;
	}
	if (j->buf[rec->len] != '\n')
		return 0;
	rec->body = j->buf;
	return 1;
}

/* No more records: the reader and its buffer are no longer needed. */
static int end_of_records(struct journal *j)
{
	fclose(j->reader);
	j->reader = NULL;
	free(j->buf);
	j->buf = NULL;
	j->cap = 0;
	return 0;
}

int journal_read(struct journal *j, struct journal_record *rec)
{
	char head[RECORD_HEAD_MAX];
	long start;
	int body;

	memset(rec, 0, sizeof *rec);
	if (j->reader == NULL)
		return 0;
	start = ftell(j->reader);
	if (fgets(head, sizeof head, j->reader) == NULL) {
		if (!ferror(j->reader))
			return end_of_records(j);
		fprintf(stderr, "read journal: %s\n", strerror(errno));
		return -1;
	}
	if (sscanf(head, "D %" SCNu64 "\n", &rec->id) == 1 && strchr(head, '\n') != NULL) {
		rec->kind = 'D';
		return 1;
	}
	if (sscanf(head, "J %" SCNu64 " %zu\n", &rec->id, &rec->len) == 2 &&
	    strchr(head, '\n') != NULL) {
		if ((body = read_body(j, rec)) == -1)
			return -1;
		if (body == 1) {
			rec->kind = 'J';
			return 1;
		}
	}
	/* A record that does not parse. The last one, cut short by a crash, was never promised to
	 * anyone, so drop it. (One damaged in the middle would take every record after it along:
	 * lesson 07's text discusses that limit.) */
	if (ftruncate(j->fd, start) == -1) {
		fprintf(stderr, "truncate journal: %s\n", strerror(errno));
		return -1;
	}
	return end_of_records(j);
}

/* Writes one whole record with one write(2), so records never interleave. */
static int append(struct journal *j, const void *record, size_t len)
{
	ssize_t n = write(j->fd, record, len);

	if (n != (ssize_t)len) {
		fprintf(stderr, "write journal: %s\n", n == -1 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

int journal_write_job(struct journal *j, uint64_t id, const unsigned char *body, size_t len)
{
	char head[RECORD_HEAD_MAX];
	int n = snprintf(head, sizeof head, "J %" PRIu64 " %zu\n", id, len);
	unsigned char *record = malloc((size_t)n + len + 1);
	int status;

	if (record == NULL) {
		fprintf(stderr, "malloc journal record: %s\n", strerror(errno));
		return -1;
	}
	memcpy(record, head, (size_t)n);
	if (len > 0)
		memcpy(record + n, body, len);
	record[(size_t)n + len] = '\n';
	status = append(j, record, (size_t)n + len + 1);
	free(record);
	return status;
}

int journal_sync(struct journal *j)
{
	/* fsync: the records are on disk, not just in the kernel's cache. */
	if (fsync(j->fd) == -1) {
		fprintf(stderr, "fsync journal: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int journal_append_job(struct journal *j, uint64_t id, const unsigned char *body, size_t len)
{
	if (journal_write_job(j, id, body, len) == -1)
		return -1;
	return journal_sync(j);
}

int journal_append_done(struct journal *j, uint64_t id)
{
	char record[RECORD_HEAD_MAX];
	int n = snprintf(record, sizeof record, "D %" PRIu64 "\n", id);

	return append(j, record, (size_t)n);
}

void journal_close(struct journal *j)
{
	if (j->reader != NULL)
		end_of_records(j);
	if (j->fd != -1)
		close(j->fd);
	memset(j, 0, sizeof *j);
}
