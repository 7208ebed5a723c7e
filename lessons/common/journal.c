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

/* Reads a decimal number at *p - 1 to 18 digits, no sign, no blank: the ids GET accepts, and
 * more than any length - and moves *p past it. Returns 0, or -1 if there is none. (sscanf's
 * %lu would also take "-1", " 7" and a number too big for 64 bits, and a replay that took such
 * an id would give ids twice.) */
static int parse_number(const char **p, uint64_t *number)
{
	size_t digits = strspn(*p, "0123456789");

	if (digits == 0 || digits > 18)
		return -1;
	*number = strtoull(*p, NULL, 10);
	*p += digits;
	return 0;
}

/* Parses a record's head, "D <id>\n" or "J <id> <length>\n", exactly: one space between the
 * parts, a newline at the end. Returns the kind, 'D' or 'J', or 0 if head is neither. */
static char parse_head(const char *head, struct journal_record *rec)
{
	const char *p = head + 2;
	uint64_t len = 0;

	if ((head[0] != 'D' && head[0] != 'J') || head[1] != ' ' ||
	    parse_number(&p, &rec->id) == -1 || rec->id == 0)
		return 0;
	if (head[0] == 'J' && (*p++ != ' ' || parse_number(&p, &len) == -1))
		return 0;
	rec->len = (size_t)len;
	return strcmp(p, "\n") == 0 ? head[0] : 0;
}

int journal_read(struct journal *j, struct journal_record *rec)
{
	char head[RECORD_HEAD_MAX];
	long start;
	int body;
	char kind;

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
	kind = parse_head(head, rec);
	if (kind == 'D') {
		rec->kind = 'D';
		return 1;
	}
	if (kind == 'J') {
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
