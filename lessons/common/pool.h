/*
 * pool.h - a fixed pool of worker threads fed by a bounded queue: lesson 04's idea, finished.
 *
 * pool_start() starts the workers. Each pops a job, calls the lesson's run(job) - the job itself
 * and whatever the lesson records about it - then frees the job and makes room for another. At
 * most workers + queue jobs are unfinished at a time (waiting, or being run): pool_push()
 * refuses one more at once, and the caller answers 503.
 *
 * Ownership: a job pushed is the pool's. run() may read it, but must neither free it nor keep a
 * pointer to it: its worker frees it as soon as run() returns. A refused push leaves the job with
 * the caller. pool_stop() closes the queue, lets the workers run every job already pushed, joins
 * them and frees the pool: once it returns, no worker runs, and nothing of the pool is left.
 */
#ifndef HANDOFF_POOL_H
#define HANDOFF_POOL_H

#include "job.h"

/* Runs one job on a worker: borrows the job, never frees it. */
typedef void pool_run_fn(const struct job *job);

/* Starts workers threads that call run(), with room for workers + queue unfinished jobs. Returns
 * 0, or -1 with a message - and then nothing is left running or allocated. */
int pool_start(int workers, int queue, pool_run_fn *run);

/* Hands job to the pool. Returns 0 (the pool owns it now), or -1 if the pool is full (the job is
 * still the caller's). Never waits. */
int pool_push(struct job *job);

/* Like pool_push(), but waits for room: for a job that must not be refused (lesson 07's replay).
 * Returns 0, or -1 if the pool is stopping (the job is still the caller's). */
int pool_push_wait(struct job *job);

/* Runs every job already pushed, joins the workers, frees the pool. */
void pool_stop(void);

/* The job of lessons 04 and 05: wait at the gate, then run it. */
void pool_run_job(const struct job *job);

#endif
