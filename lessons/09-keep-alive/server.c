/*
 * Lesson 09 - keep-alive. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 08's server, with its connection threads now in the core as well
 * (connections.h): each connection gets a thread and a request buffer of its own. But each
 * thread serves one request and closes, and a client that wants to send a second job must
 * connect again. Let one connection carry many requests, one after another or pipelined, in
 * the same buffer.
 *
 * Check your work with:  make check L=09
 */
#include <pthread.h>

#include "connections.h"
#include "durable.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

/*
 * TODO 1: OPTIONS_KEEP_ALIVE in main(): --idle-ms, a connection's wait for its next request,
 *         and --requests, how many one connection carries (srv->opt.idle_ms, .requests).
 * TODO 2: serve_request(srv, connfd, req, last): one request of a connection, today's
 *         serve_client() without its close. It returns 1 if the connection stays open for the
 *         next request, 0 if it must close. A client that went (status -1) gets no answer.
 * TODO 3: the decision, once the request is read to its end or refused, and before the buffer
 *         is reused: keep = not the last (--requests), request_keep_alive(req) (the client wants
 *         it, and the reader knows where this request ended), and no stop asked for
 *         (net_stop_requested(req->stop_fd)).
 * TODO 4: request_next(req), not request_clear(req): a pipelined request may already be in
 *         the buffer, behind this one, and request_clear() would throw its bytes away.
 * TODO 5: the answer says what comes next: response_send_request_error_conn(),
 *         send_status_conn() and response_send_accepted_at_conn() take keep. A failed send
 *         (the client is gone) closes too.
 * TODO 6: serve_client(): serve_request() in a loop, the last one when --requests are served;
 *         between two requests request_wait_next(connfd, req, srv->opt.idle_ms), which says 0
 *         after --idle-ms or at a stop: close without an answer. One close, after the loop.
 */

/* Many connection threads accept jobs at once. This lock makes giving a job its id and writing
 * its record one step, so that the journal stays in id order, which the replay relies on; it
 * guards srv->next_id. */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

/* Hands a copy of the request's job to the journal and the pool (durable.h), and its id to *id.
 * Returns 0, or 503 if the table or the pool is at its limit or the journal failed. */
static int queue_job(struct server *srv, const struct request *req, uint64_t *id)
{
	int status = 503;

	pthread_mutex_lock(&accept_lock);
	/* A copy, not a pointer into req: the connection thread frees req once it has answered. */
	struct job *job = job_new(*id = srv->next_id++, req->body, req->body_len);
	if (job != NULL)
		status = durable_accept(job); /* Takes over job: we must not touch it again. */
	pthread_mutex_unlock(&accept_lock);
	return status;
}

/* Serves one client: journal and queue a job (or refuse it) or report one; answer; close. Takes
 * over connfd; req is the connection's own. */
static void serve_client(struct server *srv, int connfd, struct request *req)
{
	uint64_t status_of, id = 0;
	int status = request_read_job_or_status(connfd, req, srv->opt.timeout_ms, &status_of);

	if (status == 0 && status_of == 0)
		status = queue_job(srv, req, &id);
	request_clear(req); /* The job has its own copy. */
	if (status != 0)
		response_send_request_error(connfd, status, req);
	else if (status_of != 0)
		send_status(connfd, status_of);
	else
		response_send_accepted_at(connfd, id);
	conn_close_lingering_or_stop(connfd, req->stop_fd); /* At a stop, linger no more. */
}

/* The accept loop's whole part: hands connfd to a connection thread of its own, which calls
 * serve_client() (connections.h), or refuses it with 503 at once. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	connections_hand_over(srv, connfd, serve_client);
}

/* Before the first client: the signals, then the table, the pool and the journal's jobs.
 * Returns 0, or -1 with nothing left set up. */
static int start_server(struct server *srv)
{
	if ((srv->stop_fd = stop_signal_catch()) == -1)
		return -1;
	if (durable_start(srv) == -1) {
		stop_signal_release();
		return -1;
	}
	return 0;
}

/* After the last client - or a signal: the connections end, every accepted job runs, then
 * everything is freed. */
static void stop_server(struct server *srv)
{
	(void)srv;
	/* First the connection threads, which may still queue jobs: at a stop, the ones waiting
	 * for a request or lingering let their clients go at once (req.stop_fd). */
	connections_wait();
	durable_stop();
	stop_signal_release(); /* Last: the connection threads watched its descriptor. */
}

int main(int argc, char **argv)
{
	static const struct lesson lesson = {
	        .handle_client = handle_client,
	        .options = OPTIONS_POOL | OPTIONS_TABLE | OPTIONS_JOURNAL | OPTIONS_CONNECTIONS,
	        .start = start_server,
	        .stop = stop_server,
	};

	return server_run(argc, argv, &lesson);
}
