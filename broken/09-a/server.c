/*
 * Lesson 09, variant a - keep-alive.
 *
 * Lesson 08's server, its connection threads now in the core (connections.h), with each
 * connection carrying many requests: HTTP/1.1 keeps a connection open unless the client says
 * "Connection: close", HTTP/1.0 only if it says "Connection: keep-alive". The connection's
 * thread reads the next request into the same struct request, and a client that pipelines -
 * sends its next request before it has the answer to this one - may have its next request's
 * first bytes in this one's last read: request_next() keeps them. A connection waits at most
 * --idle-ms for its next request and serves at most --requests; a refusal that leaves the stream
 * in doubt, a stop, or the client's "close" ends it after the answer, which then says
 * Connection: close.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connections.h"
#include "durable.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

/* Many connection threads accept jobs at once. This lock makes giving a job its id and writing
 * its record one step, so that the journal stays in id order, which the replay relies on; it
 * guards srv->next_id. */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

/* The bodies' copies, one buffer for a whole connection: growing one buffer now and then is
 * cheaper than an allocation for every job. serve_client() frees it. */
struct body_copy {
	unsigned char *bytes;
	size_t cap;
};

/* Copies the request's body into copy, which grows to fit. Returns 0, or 503. */
static int copy_body(const struct request *req, struct body_copy *copy)
{
	if (req->body_len > copy->cap) {
		unsigned char *bigger = realloc(copy->bytes, req->body_len);
		if (bigger == NULL) {
			fprintf(stderr, "realloc body copy: %s\n", strerror(errno));
			return 503;
		}
		copy->bytes = bigger;
		copy->cap = req->body_len;
	}
	if (req->body_len > 0)
		memcpy(copy->bytes, req->body, req->body_len);
	return 0;
}

/* Hands a copy of the request's job to the journal and the pool (durable.h), and its id to *id.
 * Returns 0, or 503 if the table or the pool is at its limit or the journal failed. */
static int queue_job(struct server *srv, const struct request *req, struct body_copy *copy,
                     uint64_t *id)
{
	int status = 503;
	struct job *job;

	if (copy_body(req, copy) != 0)
		return 503;
	pthread_mutex_lock(&accept_lock);
	/* A copy, not a pointer into req: the next request on this connection overwrites it. */
	if ((job = malloc(sizeof *job)) != NULL) {
		*job = (struct job){
		        .id = *id = srv->next_id++, .len = req->body_len, .body = copy->bytes};
		status = durable_accept(job); /* Takes over job: we must not touch it again. */
	} else {
		fprintf(stderr, "malloc job: %s\n", strerror(errno));
	}
	pthread_mutex_unlock(&accept_lock);
	return status;
}

/* Serves one request on a connection that may carry more: journal and queue a job (or refuse
 * it) or report one, and answer. Returns 1 if the connection stays open for the next request, 0
 * if it must close; last says this is the connection's last request (--requests). */
static int serve_request(struct server *srv, int connfd, struct request *req,
                         struct body_copy *copy, int last)
{
	uint64_t status_of, id = 0;
	int status = request_read_job_or_status(connfd, req, srv->opt.timeout_ms, &status_of);
	int keep, sent;

	if (status == -1)
		return 0; /* The client went, or a stop came, before a request: no answer. */
	if (status == 0 && status_of == 0)
		status = queue_job(srv, req, copy, &id);
	/* Only now, with the request read to its end or refused: may another one follow? */
	keep = !last && request_keep_alive(req) && !net_stop_requested(req->stop_fd);
	request_next(req); /* The job has its own copy; the next request's first bytes move up. */
	if (status != 0)
		sent = response_send_request_error_conn(connfd, status, req, keep);
	else if (status_of != 0)
		sent = send_status_conn(connfd, status_of, keep);
	else
		sent = response_send_accepted_at_conn(connfd, id, keep);
	return keep && sent == 0;
}

/* Serves one client's requests, one after another, on the connection's own req; then closes.
 * Takes over connfd. */
static void serve_client(struct server *srv, int connfd, struct request *req)
{
	struct body_copy copy = {.bytes = NULL, .cap = 0};

	for (int served = 1;; served++) {
		if (!serve_request(srv, connfd, req, &copy, served == srv->opt.requests))
			break;
		/* Between requests the client owes us nothing: wait --idle-ms, then let it go. */
		if (!request_wait_next(connfd, req, srv->opt.idle_ms))
			break;
	}
	conn_close_lingering_or_stop(connfd, req->stop_fd); /* At a stop, linger no more. */
	free(copy.bytes);
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
	        .options = OPTIONS_POOL | OPTIONS_TABLE | OPTIONS_JOURNAL | OPTIONS_CONNECTIONS |
	                   OPTIONS_KEEP_ALIVE,
	        .start = start_server,
	        .stop = stop_server,
	};

	return server_run(argc, argv, &lesson);
}
