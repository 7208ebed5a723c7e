/*
 * Lesson 08 - the front door never waits. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 07's server, with its durable jobs now in the core as well
 * (durable.h: the journal, the replay, the table and the pool behind three calls). Its accept
 * loop still serves one client at a time, so one client that connects and sends nothing, or
 * sends a byte a second, holds every other client - and SIGTERM - for up to 7 seconds. Give each
 * connection a thread of its own, and leave the accept loop nothing to do but accept.
 *
 * Check your work with:  make check L=08
 */
#include "durable.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

/*
 * TODO 1: the connection (struct connection): what the accept loop hands a connection thread -
 *         srv, connfd, and a struct request of its own, not a pointer to srv->request, which
 *         belongs to the accept loop. connection_main(arg) calls serve_client() (TODO 2),
 *         then request_free(), free(), and counts the connection out (TODO 3).
 * TODO 2: serve_client(srv, connfd, req): today's handle_client(), on the connection's own req,
 *         and closing with conn_close_lingering_or_stop(connfd, req->stop_fd).
 * TODO 3: the bound: a count of open connections under a mutex, with a condition variable
 *         signalled when it drops to 0; OPTIONS_CONNECTIONS in main() (srv->opt.connections).
 * TODO 4: handle_client(), the accept loop's whole part: if the count is below the bound,
 *         count one in, malloc a struct connection, request_init() its req, set req.stop_fd to
 *         srv->stop_fd, and thread_start_detached(connection_main, conn, "connection") - from
 *         then on conn and connfd are the thread's. Otherwise, or if any step fails (undo what
 *         it did): response_send_error(connfd, 503), then conn_close_at_once(connfd), never the
 *         lingering close. Nothing in handle_client() may read from the client.
 * TODO 5: the lock: queue_job() runs on many threads now. One mutex from srv->next_id++ to
 *         durable_accept(), so that ids are unique and the journal stays in id order (the
 *         replay relies on it, durable.h says).
 * TODO 6: the stop order: stop_server() first waits until no connection is open (they may
 *         still queue jobs), then durable_stop(), and stop_signal_release() last, since the
 *         connection threads watch its descriptor.
 */

/* Hands a copy of the request's job to the journal and the pool (durable.h), and its id to *id.
 * Returns 0, or 503 if the table or the pool is at its limit or the journal failed. */
static int queue_job(struct server *srv, const struct request *req, uint64_t *id)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(*id = srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	return durable_accept(job); /* Takes over job: we must not touch it again. */
}

/* Serves one client: journal and queue a job (or refuse it) or report one; answer; close. Takes
 * over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	uint64_t status_of, id = 0;
	int status = request_read_job_or_status(connfd, req, srv->opt.timeout_ms, &status_of);

	if (status == 0 && status_of == 0)
		status = queue_job(srv, req, &id);
	request_clear(req); /* The job has its own copy; the buffer waits for the next client. */
	if (status != 0)
		response_send_request_error(connfd, status, req);
	else if (status_of != 0)
		send_status(connfd, status_of);
	else
		response_send_accepted_at(connfd, id);
	conn_close_lingering(connfd);
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

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	(void)srv;
	durable_stop();
	stop_signal_release();
}

int main(int argc, char **argv)
{
	static const struct lesson lesson = {
	        .handle_client = handle_client,
	        .options = OPTIONS_POOL | OPTIONS_TABLE | OPTIONS_JOURNAL,
	        .start = start_server,
	        .stop = stop_server,
	};

	return server_run(argc, argv, &lesson);
}
