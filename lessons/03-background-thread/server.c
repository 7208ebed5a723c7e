/*
 * Lesson 03 - the background thread. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 02's server: the 202 comes at once, but the job still runs on the
 * accept loop, so the next client waits until it is done. Move the job to a thread of its own.
 *
 * Check your work with:  make check L=03
 */
#include "server.h"

/*
 * TODO 1: write the thread's function, static void *job_thread(void *arg). arg is the job it
 *         owns: it passes the gate, runs the job, and frees it (job_free) when done.
 * TODO 2: write static int start_job(struct server *srv, const struct request *req), which
 *         makes the job with job_new() - a copy, because req is reused for the next client as
 *         soon as handle_client returns - and starts it with thread_start_detached(). It
 *         returns 0, or 503 if there is no memory or no thread (free the job then: it is still
 *         yours). Write one line where the job changes hands: who frees it, and when.
 */

/* Serves one client. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	/*
	 * TODO 3: instead of running the job here, after the close: status = start_job(srv, req),
	 *         then request_clear(req), then answer - 202, or the error status - and close.
	 */
	if (status == 0) {
		struct job job = {.id = srv->next_id++, .len = req->body_len, .body = req->body};

		response_send_accepted(connfd);
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
