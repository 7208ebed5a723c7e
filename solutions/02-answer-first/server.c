/*
 * Lesson 02 - answer first.
 *
 * The server reads a job, answers "202 Accepted" at once, closes the connection properly, and
 * only then does the job. The client is done in about a millisecond; the job still runs on the
 * accept loop, so the next client waits until it is finished.
 */
#include "server.h"

/* Serves one client: answer, close, then work. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0) {
		struct job job = {.id = srv->next_id++, .len = req->body_len, .body = req->body};

		response_send_accepted(connfd);
		/* Closed before the job, and closed properly: the client has its whole answer
		 * now, even if it sent more than we read (see conn_close_lingering in net.c). */
		conn_close_lingering(connfd);
		gate_pass();
		job_run(&job, NULL);
	} else {
		response_send_error(connfd, status);
		conn_close_lingering(connfd);
	}
	request_clear(req);
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
