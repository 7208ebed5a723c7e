/*
 * journal.c - libFuzzer on the core's journal reader and lesson 07's replay (make fuzz,
 * tests/tools/fuzz).
 *
 * Each input is the bytes of a journal file as a crash, a full disk or a bad sector may leave
 * it: torn records, damaged heads, garbage; then, if the input holds the line "%%log", what
 * follows it is the job log ("<id> <length> <checksum>" lines), else the job log is empty. The
 * harness writes both to files in memory (memfd_create: no disk, nothing left behind), reads
 * every record with journal_read(), then opens the journal again and replays it with
 * journal_replay().
 *
 * What must hold, whatever the bytes:
 *   - every record is a 'J' or a 'D'; a job's body is within the read buffer and no longer than
 *     any request may be, and it is the bytes of the file just before the record's last "\n";
 *   - the reader stops at the first record that does not parse, and the file is cut there: it
 *     keeps exactly the records that were returned;
 *   - the replay hands over only journaled jobs, each once, with their bodies; what it appends
 *     to the journal is "D <id>" records, for journaled jobs it did not hand over; and it raises
 *     next_id past every journaled id;
 *   - when the ids rise, as the server writes them, a job marked done is left alone, and each
 *     other job is either handed over or marked done now, never both: marked done exactly when
 *     the job log has its line, if the log is in the form job_format_line() writes. (The replay
 *     finds a job by bisection, as the server journals in id order; for other files only the
 *     checks above apply.)
 */
#define _GNU_SOURCE /* memfd_create(), memmem() */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "journal.h"
#include "replay.h"
#include "request.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The journal file and the job log, both in memory, reopened by path through /proc. */
static int journal_fd, log_fd;
static char journal_path[64], log_path[64];

/* The job records of the input being run, for the replay's checks. */
static struct seen {
	uint64_t id;
	size_t offset, len; /* where its body is in the input */
	int done;           /* a 'D' record for it follows */
	int requeued;       /* the replay handed it over */
	int marked;         /* the replay appended a 'D' record for it */
	int logged;         /* the job log has its line */
} * seen;
static size_t seen_count;
static const uint8_t *input;
/* Whether this input's job log is in the form job_format_line() writes, every line of it. */
static int log_well_formed;

static void broken(const char *what)
{
	fprintf(stderr, "fuzz journal: %s\n", what);
	abort();
}

static void memory_file(const char *name, int *fd, char *path, size_t size)
{
	if ((*fd = memfd_create(name, MFD_CLOEXEC)) == -1) {
		perror("fuzz journal: memfd_create");
		exit(1);
	}
	snprintf(path, size, "/proc/self/fd/%d", *fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memory_file("journal", &journal_fd, journal_path, sizeof journal_path);
	memory_file("job-log", &log_fd, log_path, sizeof log_path);
	return 0;
}

static size_t file_size(void)
{
	struct stat st;

	if (fstat(journal_fd, &st) == -1) {
		perror("fuzz journal: fstat");
		exit(1);
	}
	return (size_t)st.st_size;
}

/* Checks one record from journal_read() against the input; returns where it ends. */
static size_t check_record(const struct journal *j, const struct journal_record *rec, size_t size)
{
	long end = ftell(j->reader);

	if (end <= 0 || (size_t)end > size)
		broken("a record that ends outside the file");
	if (rec->kind == 'D') {
		if (rec->len != 0 || rec->body != NULL)
			broken("a 'D' record with a body");
		for (size_t i = 0; i < seen_count; i++)
			if (seen[i].id == rec->id)
				seen[i].done = 1;
		return (size_t)end;
	}
	if (rec->kind != 'J')
		broken("a record that is neither 'J' nor 'D'");
	if (rec->len > REQUEST_BODY_MAX || rec->body != j->buf || rec->len + 1 > j->cap)
		broken("a job's body longer than the limit or outside the read buffer");
	if ((size_t)end < rec->len + 1 || input[end - 1] != '\n' ||
	    (rec->len > 0 && memcmp(rec->body, input + end - 1 - rec->len, rec->len) != 0))
		broken("a job's body that is not the bytes before its record's last newline");
	seen[seen_count++] =
	        (struct seen){.id = rec->id, .offset = (size_t)end - 1 - rec->len, .len = rec->len};
	return (size_t)end;
}

/* Reads every record, then checks that the file kept exactly those. Returns its new size. */
static size_t read_all(size_t size)
{
	struct journal j;
	struct journal_record rec;
	size_t kept = 0;
	int got;

	if (journal_open(&j, journal_path) == -1)
		exit(1);
	while ((got = journal_read(&j, &rec)) == 1)
		kept = check_record(&j, &rec, size);
	if (got == -1)
		broken("journal_read failed on a file in memory");
	if (j.reader != NULL || j.buf != NULL)
		broken("the reader or its buffer is still there after the last record");
	journal_close(&j);
	if (file_size() != kept)
		broken("the file was not cut right after the last record returned");
	return kept;
}

/* Whether seen job i is this job: its id and its body. */
static int same_job(size_t i, const struct job *job)
{
	return seen[i].id == job->id && seen[i].len == job->len &&
	       (job->len == 0 || memcmp(job->body, input + seen[i].offset, job->len) == 0);
}

/* The replay's requeue callback: the job must be one journaled and not handed over yet. (A
 * damaged file may journal an id twice, with different bodies.) */
static void requeue(struct job *job)
{
	size_t i = 0;

	while (i < seen_count && (seen[i].requeued || !same_job(i, job)))
		i++;
	if (i == seen_count)
		broken("the replay handed over a job never journaled, or one twice");
	seen[i].requeued = 1;
	job_free(job);
}

/* Checks one record the replay appended, "D <id>" without its newline: a job it did not hand
 * over, not marked done yet. */
static void check_marked(const char *record)
{
	char *end;
	size_t i = 0;

	errno = 0;
	uint64_t id = strtoull(record + 2, &end, 10);
	if (strncmp(record, "D ", 2) != 0 || record[2] < '0' || record[2] > '9' || *end != '\0' ||
	    errno != 0)
		broken("the replay appended something other than a 'D' record");
	while (i < seen_count && (seen[i].id != id || seen[i].requeued || seen[i].marked))
		i++;
	if (i == seen_count)
		broken("the replay marked done a job never journaled, or one it handed over");
	seen[i].marked = 1;
}

/* Reads what the replay appended to the journal, after the records it had kept. */
static void check_appended(size_t kept)
{
	size_t len = file_size() - kept;
	char *appended = malloc(len + 1), *record, *next;

	if (appended == NULL || pread(journal_fd, appended, len, (off_t)kept) != (ssize_t)len) {
		perror("fuzz journal: read what the replay appended");
		exit(1);
	}
	appended[len] = '\0';
	if ((len > 0 && appended[len - 1] != '\n') || memchr(appended, '\0', len) != NULL)
		broken("the replay appended a record without its newline, or a NUL byte");
	for (record = appended; *record != '\0'; record = next + 1) {
		next = strchr(record, '\n');
		*next = '\0';
		check_marked(record);
	}
	free(appended);
}

/* With rising ids: a job marked done is left alone; one not done is handed over, or marked done
 * now if the job log has it - one of the two, never both. */
static int replayed_right(const struct seen *job)
{
	if (job->done)
		return !job->requeued && !job->marked;
	if (log_well_formed)
		return job->marked == job->logged && job->requeued != job->logged;
	return job->requeued != job->marked;
}

/* Whether line (NUL-terminated, without its newline) is "<id> <length> <16 hex digits>", as
 * job_format_line() writes it; sets *id. */
static int log_line(const char *line, uint64_t *id)
{
	static const char digits[] = "0123456789";
	size_t id_len = strspn(line, digits), len_len;
	const char *rest = line + id_len + 1;

	if (id_len == 0 || id_len > 20 || line[id_len] != ' ')
		return 0;
	len_len = strspn(rest, digits);
	if (len_len == 0 || len_len > 20 || rest[len_len] != ' ' ||
	    strspn(rest + len_len + 1, "0123456789abcdef") != 16 || rest[len_len + 17] != '\0')
		return 0;
	errno = 0;
	*id = strtoull(line, NULL, 10);
	return errno == 0;
}

/* Marks the jobs the log has a line for, if every line of it is in job_format_line()'s form;
 * otherwise log_well_formed is 0, and the replay's reading of the log goes unchecked. */
static void read_log(const uint8_t *job_log, size_t len)
{
	char line[JOB_LOG_LINE_MAX];
	const uint8_t *end;
	uint64_t id;

	log_well_formed = 0;
	for (; len > 0; len -= (size_t)(end - job_log) + 1, job_log = end + 1) {
		if ((end = memchr(job_log, '\n', len)) == NULL ||
		    (size_t)(end - job_log) >= sizeof line)
			return;
		memcpy(line, job_log, (size_t)(end - job_log));
		line[end - job_log] = '\0';
		if (!log_line(line, &id))
			return;
		for (size_t i = 0; i < seen_count; i++)
			seen[i].logged |= seen[i].id == id;
	}
	log_well_formed = 1;
}

/* Replays the journal (already cut to its kept records) against the job log. */
static void replay_all(size_t kept)
{
	struct journal j;
	uint64_t next_id = 1;
	int rising = 1;

	if (journal_open(&j, journal_path) == -1)
		exit(1);
	if (journal_replay(&j, log_path, &next_id, requeue) == -1)
		broken("journal_replay failed on files in memory");
	journal_close(&j);
	check_appended(kept);
	for (size_t i = 0; i < seen_count; i++) {
		if (seen[i].id >= next_id)
			broken("next_id is not past a journaled id: an id would be given twice");
		if (i > 0 && seen[i].id <= seen[i - 1].id)
			rising = 0;
	}
	if (!rising)
		return;
	for (size_t i = 0; i < seen_count; i++)
		if (!replayed_right(&seen[i]))
			broken("the replay ran or marked a job against the 'D' records and log");
}

/* Makes fd's file hold exactly these bytes. */
static void fill(int fd, const uint8_t *bytes, size_t len)
{
	size_t written = 0;

	if (ftruncate(fd, 0) == -1) {
		perror("fuzz journal: ftruncate");
		exit(1);
	}
	while (written < len) {
		ssize_t n = pwrite(fd, bytes + written, len - written, (off_t)written);
		if (n <= 0) {
			perror("fuzz journal: pwrite");
			exit(1);
		}
		written += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char split[] = "\n%%log\n";
	const uint8_t *job_log = memmem(data, size, split, sizeof split - 1);
	size_t journal_len = job_log != NULL ? (size_t)(job_log - data) + 1 : size;

	fill(journal_fd, data, journal_len);
	if (job_log != NULL)
		job_log += sizeof split - 1;
	fill(log_fd, job_log, job_log != NULL ? size - (size_t)(job_log - data) : 0);
	/* A record takes at least three bytes ("D1\n"), so this is room for every one. */
	if ((seen = calloc(journal_len / 3 + 1, sizeof *seen)) == NULL) {
		perror("fuzz journal: calloc");
		exit(1);
	}
	seen_count = 0;
	input = data;
	size_t kept = read_all(journal_len);
	read_log(job_log, job_log != NULL ? size - (size_t)(job_log - data) : 0);
	replay_all(kept);
	free(seen);
	seen = NULL;
	return 0;
}
