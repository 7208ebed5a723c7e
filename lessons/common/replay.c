/*
 * replay.c - lesson 07's replay, finished. See replay.h for the contract.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

/* Makes room for one more element in a growing array of *cap elements of size bytes. Returns
 * the array (perhaps moved), or NULL with a message - and then the old one is still valid. */
static void *grow(void *array, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return array;
	size_t bigger = *cap > 0 ? 2 * *cap : 64;
	void *moved = realloc(array, bigger * size);
	if (moved == NULL) {
		fprintf(stderr, "realloc %zu bytes: %s\n", bigger * size, strerror(errno));
		return NULL;
	}
	*cap = bigger;
	return moved;
}

/* The journaled jobs, in id order (the accept loop journals in id order); job is NULL once the
 * journal marks it done. The jobs are ours until journal_replay() frees them or requeues them. */
struct pending {
	struct pending_job {
		uint64_t id;
		struct job *job;
	} * jobs;
	size_t count, cap;
};

/* Finds job id among the pending ones, by bisection; NULL if it was never journaled. */
static struct pending_job *pending_find(struct pending *p, uint64_t id)
{
	size_t low = 0, high = p->count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		if (p->jobs[mid].id == id)
			return &p->jobs[mid];
		if (p->jobs[mid].id < id)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

/* Reads the journal into *pending, and raises *next_id past every id in it. Returns 0, or -1. */
static int read_journal(struct journal *journal, uint64_t *next_id, struct pending *pending)
{
	struct journal_record rec;
	struct pending_job *done, *more;
	int got;

	while ((got = journal_read(journal, &rec)) == 1) {
		if (rec.kind == 'D' && (done = pending_find(pending, rec.id)) != NULL) {
			job_free(done->job);
			done->job = NULL;
		} else if (rec.kind == 'J') {
			more = grow(pending->jobs, pending->count, &pending->cap, sizeof *more);
			if (more == NULL)
				return -1;
			pending->jobs = more;
			/* A copy: the record's body lives in the journal's read buffer. */
			struct job *job = job_new(rec.id, rec.body, rec.len);
			if (job == NULL)
				return -1;
			pending->jobs[pending->count++] =
			        (struct pending_job){.id = rec.id, .job = job};
			if (rec.id >= *next_id)
				*next_id = rec.id + 1;
		}
	}
	return got;
}

/* The ids in the job log, sorted. A crash can fall between a job's log line and its done record,
 * and that job must not run twice: the replay looks each pending job up here. Read once, so a
 * restart costs one pass over the log, however many jobs are pending. */
struct logged_ids {
	uint64_t *ids;
	size_t count, cap;
};

static int compare_ids(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Reads every id of the job log into *logged, sorted. Returns 0, or -1 with a message. */
static int read_logged(const char *log_path, struct logged_ids *logged)
{
	FILE *log = fopen(log_path, "r");
	uint64_t id, *more;

	if (log == NULL)
		return 0; /* No job log yet: no job has run. */
	while (fscanf(log, "%" SCNu64 " %*s %*s", &id) == 1) {
		if ((more = grow(logged->ids, logged->count, &logged->cap, sizeof id)) == NULL) {
			fclose(log);
			return -1;
		}
		logged->ids = more;
		logged->ids[logged->count++] = id;
	}
	fclose(log);
	if (logged->count > 0)
		qsort(logged->ids, logged->count, sizeof *logged->ids, compare_ids);
	return 0;
}

/* Whether the job log already has job id's line. */
static int logged(const struct logged_ids *logged, uint64_t id)
{
	return logged->count > 0 &&
	       bsearch(&id, logged->ids, logged->count, sizeof id, compare_ids) != NULL;
}

int journal_replay(struct journal *journal, const char *log_path, uint64_t *next_id,
                   replay_requeue_fn *requeue)
{
	struct pending pending = {0};
	struct logged_ids done_in_log = {0};
	int status = read_journal(journal, next_id, &pending);

	if (status == 0)
		status = read_logged(log_path, &done_in_log);
	for (size_t i = 0; i < pending.count; i++) {
		struct job *job = pending.jobs[i].job;
		if (job == NULL)
			continue;
		if (status == -1) {
			job_free(job); /* The server will not start; the journal keeps the job. */
		} else if (logged(&done_in_log, job->id)) {
			/* If this fails, the next start asks the job log again. */
			journal_append_done(journal, job->id);
			job_free(job);
		} else {
			requeue(job); /* Takes it over. */
		}
	}
	free(pending.jobs);
	free(done_in_log.ids);
	return status;
}
