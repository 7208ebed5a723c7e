/*
 * Lesson 01 - the blocking handler. This is your server: read README.md beside it first.
 *
 * The server reads a job, does it, and only then answers "200 OK" with the job's log line. The
 * client waits for the whole job.
 *
 * Check your work with:  make check L=01
 */
#include "server.h"

/* Serves one client, start to finish. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0) {
		/*
		 * TODO 1: describe the job in a struct job (job.h): its id is srv->next_id++, and
		 *         its input is the body where it lies, req->body_len bytes at req->body.
		 * TODO 2: let the test hold the job if it wants to: gate_pass().
		 * TODO 3: do the job with job_run(), asking for its struct job_result.
		 * TODO 4: answer with response_send_result() - or, if job_run() failed,
		 *         response_send_error(connfd, 500).
		 * Until then the server answers that the job is not implemented:
		 */
		response_send_error(connfd, 501);
	} else {
		response_send_error(connfd, status);
	}
	request_clear(req);
	conn_close_lingering(connfd); /* Not plain close(): lesson 02 shows why. */
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
