/*
 * job.h - the job: what every server in the kit does with a request's body.
 *
 * A job reads its input (len bytes at body), takes --work-ms to "work", and appends one line,
 * "<id> <length> <checksum>\n", to the job log with a single write(2) on a file opened O_APPEND,
 * so lines from concurrent jobs never interleave. The checksum is the 64-bit FNV-1a of the bytes
 * the job read: it proves the job read exactly the bytes its own client sent.
 *
 * job_setup() runs once, before any thread exists; afterwards the settings are only read, so any
 * thread may run jobs without a lock. After job_free(job), nothing may read job or its body.
 */
#ifndef HANDOFF_JOB_H
#define HANDOFF_JOB_H

#include <stddef.h>
#include <stdint.h>

/* Longest log line: two 20-digit numbers, 16 hex digits, two spaces, newline, NUL. */
#define JOB_LOG_LINE_MAX 64

struct job {
	uint64_t id;
	size_t len;
	const unsigned char *body; /* len bytes of input */
};

struct job_result {
	uint64_t id;
	size_t len;
	uint64_t checksum;
};

/* Opens the job log and records how long a job works. Returns 0, or -1 with a message. */
int job_setup(const char *log_path, int work_ms);

/* A job on the heap with its own copy of body; the copy lives in the same allocation, so
 * job_free() releases both. Returns NULL (with a message) if memory is short. */
struct job *job_new(uint64_t id, const void *body, size_t len);
void job_free(struct job *job);

/* Does the job: reads the input, works, appends the log line. Fills *result if it is not NULL.
 * Returns 0, or -1 if the log line could not be written (with a message). */
int job_run(const struct job *job, struct job_result *result);

/* Formats a result as its log line; returns the line's length. */
int job_format_line(const struct job_result *result, char *buf, size_t size);

/* 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3). */
uint64_t fnv1a64(const unsigned char *data, size_t len);

#endif
