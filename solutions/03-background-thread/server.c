/*
 * Lesson 03 - the background thread.
 *
 * The accept loop reads a job, hands it to a new detached thread, answers "202 Accepted", closes
 * the connection properly and goes straight back to accept() - the job runs beside it. The
 * thread gets its own heap copy of exactly what it needs; the request buffer and the client's
 * socket stay with the accept loop, which reuses both for the next client.
 */
#include "server.h"

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
