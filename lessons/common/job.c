/*
 * job.c - the job. See job.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "job.h"

/* Set once by job_setup(), before any thread exists; read-only afterwards. */
static int log_fd = -1;
static int work_ms;

int job_setup(const char *log_path, int ms)
{
	/* O_APPEND: every write(2) lands at the end of the file, atomically, so the lines of
	 * concurrent jobs never interleave or overwrite each other. */
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd == -1) {
		fprintf(stderr, "open %s: %s\n", log_path, strerror(errno));
		return -1;
	}
	work_ms = ms;
	return 0;
}

struct job *job_new(uint64_t id, const void *body, size_t len)
{
	struct job *job = malloc(sizeof *job + len);

	if (job == NULL) {
		fprintf(stderr, "malloc job of %zu bytes: %s\n", len, strerror(errno));
		return NULL;
	}
	unsigned char *copy = (unsigned char *)(job + 1);
	if (len > 0)
		memcpy(copy, body, len);
	job->id = id;
	job->len = len;
	job->body = copy;
	return job;
}

void job_free(struct job *job)
{
	free(job);
}

uint64_t fnv1a64(const unsigned char *data, size_t len)
{
	uint64_t hash = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++) {
		hash ^= data[i];
		hash *= 0x100000001b3u;
	}
	return hash;
}

/* The simulated work: sleeps work_ms, resuming after signals. With --work-ms 0 it does not
 * enter the kernel at all: a sleep of 0 still gives the core away, a cost make bench would see. */
static void work(void)
{
	struct timespec left = {.tv_sec = work_ms / 1000, .tv_nsec = (work_ms % 1000) * 1000000L};

	while (work_ms > 0 && nanosleep(&left, &left) == -1 && errno == EINTR)
		continue;
}

int job_format_line(const struct job_result *result, char *buf, size_t size)
{
	return snprintf(buf, size, "%" PRIu64 " %zu %016" PRIx64 "\n", result->id, result->len,
	                result->checksum);
}

int job_run(const struct job *job, struct job_result *result)
{
	struct job_result done = {.id = job->id, .len = job->len};
	char line[JOB_LOG_LINE_MAX];

	done.checksum = fnv1a64(job->body, job->len);
	work();
	int n = job_format_line(&done, line, sizeof line);
	/* One write(2) for the whole line: with O_APPEND, that is what keeps lines whole. */
	ssize_t written = write(log_fd, line, (size_t)n);
	if (written != n) {
		fprintf(stderr, "write job log: %s\n",
		        written == -1 ? strerror(errno) : "short write");
		return -1;
	}
	if (result != NULL)
		*result = done;
	return 0;
}
