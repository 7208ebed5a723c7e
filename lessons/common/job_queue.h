/*
 * job_queue.h - a bounded queue of jobs between the accept loop and a pool of workers.
 *
 * One mutex guards the queue; one condition variable wakes a worker when a job arrives or the
 * queue closes, another wakes job_queue_push_wait() when there is room or the queue closes. The queue admits at most `limit` unfinished jobs - waiting in the queue, or
 * popped by a worker and not yet done - so memory stays bounded whatever the load.
 * job_queue_push() never waits: at the limit it refuses the job at once, and the accept loop
 * answers 503 instead of piling up memory.
 *
 * Ownership: the queue owns a job from a successful push until the pop that returns it; from
 * then on the worker that popped it owns it, frees it, and then calls job_queue_done(). A
 * refused push leaves the job with the caller. After job_queue_close(), pushes are refused and
 * pops drain what is left, then return NULL. Destroy the queue only after every worker that
 * uses it has been joined.
 */
#ifndef HANDOFF_JOB_QUEUE_H
#define HANDOFF_JOB_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#include "job.h"

struct job_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty; /* signalled on push and on close */
	pthread_cond_t not_full;  /* signalled when a job is done and on close */
	struct job **slots;       /* a ring of limit slots */
	size_t limit;             /* most unfinished jobs at a time */
	size_t head;              /* next slot to pop */
	size_t count;             /* jobs waiting in the ring */
	size_t unfinished;        /* jobs pushed and not yet done: waiting or being worked on */
	int closed;
};

/* Prepares an empty queue that admits at most limit unfinished jobs. Returns 0, or -1 with a
 * message. */
int job_queue_init(struct job_queue *q, size_t limit);

/* Adds job at the tail. Returns 0 (the queue owns job now), or -1 if limit jobs are unfinished
 * or the queue is closed (job is still the caller's). Never waits. */
int job_queue_push(struct job_queue *q, struct job *job);

/* Like job_queue_push(), but waits while limit jobs are unfinished, for a job that must not be
 * refused (lesson 07's replay). Returns 0, or -1 if the queue is closed. */
int job_queue_push_wait(struct job_queue *q, struct job *job);

/* Waits for a job and removes it from the head: the caller owns it now. Returns NULL once the
 * queue is closed and empty. */
struct job *job_queue_pop(struct job_queue *q);

/* A worker has finished (and freed) a job it popped: one more may be pushed. */
void job_queue_done(struct job_queue *q);

/* Refuses further pushes and wakes every waiting worker; the jobs still queued are popped. */
void job_queue_close(struct job_queue *q);

/* Frees the queue's memory. Only after every worker has been joined; the queue must be empty. */
void job_queue_destroy(struct job_queue *q);

#endif
