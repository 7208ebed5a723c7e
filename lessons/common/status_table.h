/*
 * status_table.h - what GET /jobs/ID reports, kept in a bounded table: lesson 06's idea, finished.
 *
 * The table keeps the newest jobs, job ID in row ID % size. A new job takes the row of the job
 * `size` ids before it - the oldest one - if that job has finished; if not, table_add() refuses,
 * and the caller answers 503. A row is a copy of what GET reports, never a pointer to the job,
 * which its worker frees when it is done. Every function holds the table's lock; table_lookup()
 * and send_status() copy the row out before they let go.
 *
 * table_start() runs before any thread uses the table; table_stop() only after the last one
 * (the workers) has been joined.
 */
#ifndef HANDOFF_STATUS_TABLE_H
#define HANDOFF_STATUS_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* A job's state, as GET /jobs/ID reports it. */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };

/* One row: a copy of what GET /jobs/ID reports. */
struct job_status {
	uint64_t id; /* 0: an empty row */
	enum job_state state;
	size_t len;
	uint64_t checksum; /* once done */
};

/* Makes a table of size rows. Returns 0, or -1 with a message. */
int table_start(size_t size);

/* Frees the table: only after every thread that uses it has been joined. */
void table_stop(void);

/* Gives job id its row, queued. Returns 0, or -1 if an unfinished job still holds the row. */
int table_add(uint64_t id, size_t len);

/* Records a job's new state (and, once done, its checksum). */
void table_update(uint64_t id, enum job_state state, uint64_t checksum);

/* Empties job id's row again: the job was refused after table_add(). */
void table_forget(uint64_t id);

/* Copies job id's row into *copy. Returns 0, or -1 for an id the table does not know. */
int table_lookup(uint64_t id, struct job_status *copy);

/* Answers GET /jobs/ID on connfd: 200 with the row as JSON, or 404. */
void send_status(int connfd, uint64_t id);

/* From lesson 09 on: send_status() on a connection that may stay open; keep_alive chooses the
 * Connection field, as response.h's _conn functions do. Returns 0, or -1 if the client is gone. */
int send_status_conn(int connfd, uint64_t id, int keep_alive);

#endif
