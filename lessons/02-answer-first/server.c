/*
 * Lesson 02 - answer first. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 01's server: the client waits while the job runs. Make it answer
 * "202 Accepted" at once, close the connection, and only then do the job.
 *
 * Check your work with:  make check L=02
 */
#include "server.h"

/* Serves one client. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	/*
	 * TODO 1: on success, answer first: response_send_accepted(connfd).
	 * TODO 2: then close the connection - with conn_close_lingering(connfd), never a bare
	 *         close(): the README explains why, and ../common/net.c shows how.
	 * TODO 3: only then let the job through the gate and run it. Nobody waits for its result
	 *         any more, so job_run() can take NULL for it.
	 * The error path needs its own close, since the success path now closes early.
	 */
	if (status == 0) {
		struct job job = {.id = srv->next_id++, .len = req->body_len, .body = req->body};
		struct job_result result;

		gate_pass();
		if (job_run(&job, &result) == 0)
			response_send_result(connfd, &result);
		else
			response_send_error(connfd, 500);
	} else {
		response_send_error(connfd, status);
	}
	request_clear(req);
	conn_close_lingering(connfd); /* Not plain close(): the README explains why. */
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
