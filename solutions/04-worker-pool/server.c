/*
 * Lesson 04 - the worker pool.
 *
 * A fixed number of worker threads (--workers N) take jobs from a bounded queue. The accept
 * loop answers 202 only for a job the queue took. When --workers + --queue jobs are already
 * waiting or running, it answers "503 Service Unavailable" with Retry-After at once and keeps
 * nothing: however many clients come, the server holds at most workers + queue jobs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "job_queue.h"
#include "server.h"

/* The pool: set up by start_pool() before the first client, torn down by stop_pool(). */
static struct job_queue queue;
static pthread_t *workers;
static int worker_count;

/* A worker: runs jobs from the queue until the queue is closed and empty. */
static void *worker_main(void *unused)
{
	struct job *job;

	(void)unused;
	while ((job = job_queue_pop(&queue)) != NULL) { /* Ours from the pop: freed below. */
		gate_pass();
		job_run(job, NULL);
		job_free(job);
		job_queue_done(&queue);
	}
	return NULL;
}

/* After the last client: the workers finish every queued job, then the pool is freed. */
static void stop_pool(struct server *srv)
{
	(void)srv;
	job_queue_close(&queue); /* Pops now drain the queue, then return NULL. */
	for (int i = 0; i < worker_count; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	job_queue_destroy(&queue); /* Only now: no worker can touch the queue any more. */
}

/* Starts the workers, before the first client. Returns 0, or -1 with nothing left set up. */
static int start_pool(struct server *srv)
{
	if (job_queue_init(&queue, (size_t)srv->opt.workers + (size_t)srv->opt.queue) == -1)
		return -1;
	if ((workers = calloc((size_t)srv->opt.workers, sizeof *workers)) == NULL) {
		perror("calloc workers");
		job_queue_destroy(&queue);
		return -1;
	}
	for (; worker_count < srv->opt.workers; worker_count++) {
		if (thread_start(&workers[worker_count], worker_main, NULL, "worker") == -1) {
			stop_pool(srv); /* The workers already started end; nothing is left. */
			return -1;
		}
	}
	return 0;
}

/* Hands the request's job to the queue. Returns 0, or 503 if the queue is at its limit. */
static int queue_job(struct server *srv, const struct request *req)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	if (job_queue_push(&queue, job) == -1) {
		job_free(job); /* Refused, so it is still ours. */
		return 503;
	}
	return 0; /* The queue owns job now, and then a worker; we must not touch it again. */
}

/* Serves one client: queue the job (or refuse it), answer, close. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0)
		status = queue_job(srv, req);
	request_clear(req); /* The job has its own copy; the buffer waits for the next client. */
	if (status == 0)
		response_send_accepted(connfd);
	else
		response_send_error(connfd, status);
	conn_close_lingering(connfd);
}

int main(int argc, char **argv)
{
	static const struct lesson lesson = {
	        .handle_client = handle_client,
	        .options = OPTIONS_POOL,
	        .start = start_pool,
	        .stop = stop_pool,
	};

	return server_run(argc, argv, &lesson);
}
