/*
 * Lesson 04 - the worker pool. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 03's server: a new thread for every job, as many as clients send.
 * Make a fixed pool of --workers threads take jobs from a bounded queue (job_queue.h), and
 * answer 503 with Retry-After when --workers + --queue jobs are already unfinished.
 *
 * Check your work with:  make check L=04
 */
#include "job_queue.h"
#include "server.h"

/*
 * TODO 1: the pool's state, at file scope: a struct job_queue, the workers' pthread_t array
 *         and how many were started.
 * TODO 2: static void *worker_main(void *unused): pop jobs until job_queue_pop() returns NULL;
 *         for each: gate_pass(), job_run(), job_free(), job_queue_done().
 * TODO 3: static int start_pool(struct server *srv): job_queue_init() for
 *         srv->opt.workers + srv->opt.queue jobs, then thread_start() each worker; on a
 *         failure, undo what is set up (stop_pool() ends the workers already started).
 * TODO 4: static void stop_pool(struct server *srv): job_queue_close(), join every worker,
 *         free the array, and only then job_queue_destroy().
 * TODO 5: replace start_job() below with queue_job(): job_new(), then job_queue_push();
 *         a refused push means 503 - and the job is still yours to free.
 * TODO 6: in main(), use server_run() with a struct lesson naming handle_client, OPTIONS_POOL,
 *         start_pool and stop_pool.
 */

/* Runs one job on its own thread. */
static void *job_thread(void *arg)
{
	struct job *job = arg; /* Ours from pthread_create on: freed below, when the job is done. */

	gate_pass();
	job_run(job, NULL);
	job_free(job);
	return NULL;
}

/* Hands the request's job to a new thread. Returns 0, or 503 if no thread could take it. */
static int start_job(struct server *srv, const struct request *req)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	if (thread_start_detached(job_thread, job, "job") == -1) {
		job_free(job); /* No thread took it, so it is still ours. */
		return 503;
	}
	return 0; /* job_thread owns job now; we must not touch it again. */
}

/* Serves one client: hand off, answer, close. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0)
		status = start_job(srv, req);
	request_clear(req); /* The job has its own copy; the buffer waits for the next client. */
	if (status == 0)
		response_send_accepted(connfd);
	else
		response_send_error(connfd, status);
	conn_close_lingering(connfd);
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
