/*
 * job_queue.c - the bounded job queue. See job_queue.h for the contract.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_queue.h"

int job_queue_init(struct job_queue *q, size_t limit)
{
	int err;

	memset(q, 0, sizeof *q);
	if ((q->slots = calloc(limit, sizeof *q->slots)) == NULL) {
		fprintf(stderr, "job_queue_init: calloc %zu slots: %s\n", limit, strerror(errno));
		return -1;
	}
	q->limit = limit;
	if ((err = pthread_mutex_init(&q->lock, NULL)) != 0 ||
	    (err = pthread_cond_init(&q->not_empty, NULL)) != 0 ||
	    (err = pthread_cond_init(&q->not_full, NULL)) != 0) {
		fprintf(stderr, "job_queue_init: pthread_mutex_init/pthread_cond_init: %s\n",
		        strerror(err));
		free(q->slots);
		return -1;
	}
	return 0;
}

/* Puts job at the tail; the caller holds the lock and has checked there is room. */
static void put(struct job_queue *q, struct job *job)
{
	q->slots[(q->head + q->count) % q->limit] = job;
	q->count++;
	q->unfinished++;
	pthread_cond_signal(&q->not_empty);
}

int job_queue_push(struct job_queue *q, struct job *job)
{
	int pushed = 0;

	pthread_mutex_lock(&q->lock);
	if (!q->closed && q->unfinished < q->limit) {
		put(q, job);
		pushed = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return pushed ? 0 : -1;
}

int job_queue_push_wait(struct job_queue *q, struct job *job)
{
	int pushed = 0;

	pthread_mutex_lock(&q->lock);
	while (!q->closed && q->unfinished >= q->limit)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (!q->closed) {
		put(q, job);
		pushed = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return pushed ? 0 : -1;
}

struct job *job_queue_pop(struct job_queue *q)
{
	struct job *job = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->count > 0) {
		job = q->slots[q->head];
		q->slots[q->head] = NULL;
		q->head = (q->head + 1) % q->limit;
		q->count--;
	}
	pthread_mutex_unlock(&q->lock);
	return job;
}

void job_queue_done(struct job_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->unfinished--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void job_queue_close(struct job_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void job_queue_destroy(struct job_queue *q)
{
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->slots);
}
