/*
 * Lesson 03, variant d - the background thread.
 *
 * The accept loop reads a job, hands it to a new detached thread, answers "202 Accepted", closes
 * the connection properly and goes straight back to accept() - the job runs beside it.
 */
#include <stdlib.h>
#include <unistd.h>

#include "server.h"

/* What a job thread is given: its job, and the client it came from. */
struct work {
	struct job *job;
	int connfd;
};

/* Runs one job on its own thread. */
static void *job_thread(void *arg)
{
	struct work *work = arg; /* Ours from pthread_create on: freed below, with its job. */

	gate_pass();
	close(work->connfd); /* The client has its 202; let go of it before the long job. */
	job_run(work->job, NULL);
	job_free(work->job);
	free(work);
	return NULL;
}

/* Hands the request's job to a new thread. Returns 0, or 503 if no thread could take it. */
static int start_job(struct server *srv, const struct request *req, int connfd)
{
	struct work *work = malloc(sizeof *work);

	if (work == NULL)
		return 503;
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	work->job = job_new(srv->next_id++, req->body, req->body_len);
	work->connfd = connfd;
	if (work->job == NULL || thread_start_detached(job_thread, work, "job") == -1) {
		job_free(work->job); /* No thread took it, so it is still ours. */
		free(work);
		return 503;
	}
	return 0; /* job_thread owns work now; we must not touch it again. */
}

/* Serves one client: hand off, answer, close. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0)
		status = start_job(srv, req, connfd);
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
