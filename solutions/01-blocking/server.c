/*
 * Lesson 01 - the blocking handler.
 *
 * The server reads a job, does it, and only then answers "200 OK" with the job's log line. The
 * client waits for the whole job: with --work-ms 200, every request takes at least 200 ms, and
 * the next client waits in the listen queue until this one is done.
 */
#include "server.h"

/* Serves one client, start to finish. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0) {
		/* The job reads the body where it lies, in the request buffer: we are still
		 * using the request, so the buffer is still this client's. */
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
	conn_close_lingering(connfd); /* Not plain close(): lesson 02 shows why. */
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, handle_client);
}
