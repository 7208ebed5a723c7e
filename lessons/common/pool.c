/*
 * pool.c - the worker pool. See pool.h for the contract.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "job_queue.h"
#include "pool.h"
#include "server.h"

/* The pool: set up by pool_start(), torn down by pool_stop(). */
static struct job_queue queue;
static pthread_t *workers;
static int worker_count; /* workers started */
static pool_run_fn *run; /* the lesson's: runs one job */

/* A worker: runs jobs from the queue until the queue is closed and empty. */
static void *worker_main(void *unused)
{
	struct job *job;

	(void)unused;
	while ((job = job_queue_pop(&queue)) != NULL) { /* Ours from the pop: freed below. */
		run(job);
		job_free(job);
		job_queue_done(&queue);
	}
	return NULL;
}

int pool_start(int count, int queue_size, pool_run_fn *run_one)
{
	run = run_one;
	if (job_queue_init(&queue, (size_t)count + (size_t)queue_size) == -1)
		return -1;
	if ((workers = calloc((size_t)count, sizeof *workers)) == NULL) {
		fprintf(stderr, "calloc %d workers: %s\n", count, strerror(errno));
		job_queue_destroy(&queue);
		return -1;
	}
	for (worker_count = 0; worker_count < count; worker_count++) {
		if (thread_start(&workers[worker_count], worker_main, NULL, "worker") == -1) {
			pool_stop(); /* The workers already started end; nothing is left. */
			return -1;
		}
	}
	return 0;
}

int pool_push(struct job *job)
{
	return job_queue_push(&queue, job);
}

int pool_push_wait(struct job *job)
{
	return job_queue_push_wait(&queue, job);
}

void pool_stop(void)
{
	job_queue_close(&queue); /* Pops now drain the queue, then return NULL. */
	for (int i = 0; i < worker_count; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	worker_count = 0;
	job_queue_destroy(&queue); /* Only now: no worker can touch the queue any more. */
}

void pool_run_job(const struct job *job)
{
	gate_pass();
	job_run(job, NULL);
}
