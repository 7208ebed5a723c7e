/*
 * Lesson 02, variant a - answer first.
 *
 * The server reads a job, answers "202 Accepted" at once, closes the connection, and only then
 * does the job.
 */
#include <unistd.h>

#include "server.h"

/* Serves one client: answer, close, then work. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0) {
		struct job job = {.id = srv->next_id++, .len = req->body_len, .body = req->body};

		response_send_accepted(connfd);
		/* The client has its whole answer: from here on, connfd is no longer ours. */
		close(connfd);
		gate_pass();
		job_run(&job, NULL);
	} else {
		response_send_error(connfd, status);
		close(connfd);
	}
	request_clear(req);
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
