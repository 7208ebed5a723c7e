/*
 * journal.h - an append-only file of records that survives a crash of the process (lesson 07).
 *
 * Two kinds of record: a job ("J <id> <length>\n" then its body and "\n"), and a job's
 * completion ("D <id>\n"). Each record goes to the file in one write(2) on a descriptor opened
 * O_APPEND, so records from several threads never interleave. journal_append_job() returns only
 * after fsync(2): once it has returned, the job is on disk, and a 202 may promise it. (So does
 * a journal_sync() that began after journal_write_job() returned.)
 *
 * journal_read() returns the records one by one, from the start. A record's body lives in the
 * journal's read buffer, which the next journal_read() overwrites - and frees, once there are no
 * more records: copy what must outlive the call. A last record cut short by a crash is dropped,
 * and the file is truncated before it. A read error is an error (-1), never taken for a torn
 * record.
 */
#ifndef HANDOFF_JOURNAL_H
#define HANDOFF_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct journal {
	int fd;             /* O_APPEND, for the records we add */
	FILE *reader;       /* for journal_read(); closed once it has returned 0 */
	unsigned char *buf; /* the body of the last record read */
	size_t cap;
};

struct journal_record {
	char kind; /* 'J' a job, 'D' a job done */
	uint64_t id;
	size_t len;                /* 'J': body length */
	const unsigned char *body; /* 'J': len bytes, valid until the next journal_read() */
};

/* Opens (or creates) the journal at path. Returns 0, or -1 with a message. */
int journal_open(struct journal *j, const char *path);

/* Reads the next record into *rec. Returns 1, 0 at the end, or -1 with a message. */
int journal_read(struct journal *j, struct journal_record *rec);

/* Appends a job and waits until it is on disk. Returns 0, or -1 with a message. */
int journal_append_job(struct journal *j, uint64_t id, const unsigned char *body, size_t len);

/* For group commit (lesson 07's stretch): journal_write_job() appends a job without waiting for
 * the disk, and journal_sync() waits until every record appended so far is on disk - one fsync
 * for many jobs. journal_append_job() is the two in a row. Both return 0, or -1 with a message. */
int journal_write_job(struct journal *j, uint64_t id, const unsigned char *body, size_t len);
int journal_sync(struct journal *j);

/* Appends "job id is done". Returns 0, or -1 with a message. */
int journal_append_done(struct journal *j, uint64_t id);

void journal_close(struct journal *j);

#endif
