/*
 * Lesson 03, variant c - the background thread.
 *
 * The accept loop reads each job into a request of its own, hands the job to a new detached
 * thread, answers "202 Accepted", closes the connection properly and goes straight back to
 * accept() - the job runs beside it.
 */
#include <stdlib.h>

#include "server.h"

/* Runs one job on its own thread. */
static void *job_thread(void *arg)
{
	struct job *job = arg; /* Ours from pthread_create on: freed below, when the job is done. */

	gate_pass();
	job_run(job, NULL);
	free(job);
	return NULL;
}

/* Hands the request's job to a new thread. Returns 0, or 503 if no thread could take it. */
static int start_job(struct server *srv, const struct request *req)
{
	struct job *job = malloc(sizeof *job);

	if (job == NULL)
		return 503;
	job->id = srv->next_id++;
	job->len = req->body_len;
	job->body = req->body; /* This request is the job's alone: nobody else reads into it. */
	if (thread_start_detached(job_thread, job, "job") == -1) {
		free(job); /* No thread took it, so it is still ours. */
		return 503;
	}
	return 0; /* job_thread owns job now; we must not touch it again. */
}

/* Serves one client: hand off, answer, close. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = malloc(sizeof *req);
	int status = 503;

	if (req != NULL) {
		request_init(req);
		status = request_read_job(connfd, req, srv->opt.timeout_ms);
	}
	if (status == 0)
		status = start_job(srv, req);
	if (status == 0)
		response_send_accepted(connfd);
	else
		response_send_error(connfd, status);
	conn_close_lingering(connfd);
	if (req != NULL) {
		request_free(req);
		free(req);
	}
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
