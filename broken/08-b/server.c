/*
 * Lesson 08, variant b - the front door never waits.
 *
 * Lesson 07's server, its durable jobs now in the core (durable.h), with the accept loop's work
 * cut down to accepting. Each connection gets a thread of its own, which owns the socket and its
 * own request buffer: it reads the request, journals and queues the job, answers and closes. A
 * client that sends slowly, or never closes, holds up only its own thread. At most --connections
 * threads at a time: one connection more gets 503 with Retry-After from the accept loop, which
 * never waits on that client. At a stop, a connection still waiting for its request is let go at
 * once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

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
	struct job *job = malloc(sizeof *job);
	if (job != NULL) {
		*id = srv->next_id++;
		*job = (struct job){.id = *id, .len = req->body_len, .body = req->body};
		status = durable_accept(job); /* Takes over job: we must not touch it again. */
	}
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

/* The connections being served, each on its thread: at most --connections. stop_server() waits
 * until none is left before it stops the pool, since a connection thread may still queue a job. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t none_left;
	int open;
} connections = {.lock = PTHREAD_MUTEX_INITIALIZER, .none_left = PTHREAD_COND_INITIALIZER};

/* Counts a connection out. */
static void connection_closed(void)
{
	pthread_mutex_lock(&connections.lock);
	if (--connections.open == 0)
		pthread_cond_broadcast(&connections.none_left);
	pthread_mutex_unlock(&connections.lock);
}

/* What the accept loop hands a connection thread: from then on all of it is the thread's. */
struct connection {
	struct server *srv; /* shared by every thread: read-only, but for next_id (accept_lock) */
	int connfd;         /* the thread closes it */
	struct request req; /* this connection's own request buffer; the thread frees it */
};

/* A connection's thread: serves its client, then frees what it was handed. */
static void *connection_main(void *arg)
{
	struct connection *conn = arg;

	serve_client(conn->srv, conn->connfd, &conn->req); /* Closes connfd. */
	request_free(&conn->req);
	free(conn);
	connection_closed();
	return NULL;
}

/* Gives connfd to a new connection thread. Returns 0, or -1 - and then connfd is still ours. */
static int start_connection(struct server *srv, int connfd)
{
	struct connection *conn = malloc(sizeof *conn);

	if (conn == NULL) {
		fprintf(stderr, "malloc connection: %s\n", strerror(errno));
		return -1;
	}
	conn->srv = srv;
	conn->connfd = connfd;
	request_init(&conn->req);
	/* At a stop, the reader stops waiting for the client. */
	conn->req.stop_fd = srv->stop_fd;
	if (thread_start_detached(connection_main, conn, "connection") == -1) {
		free(conn); /* No thread: still ours. */
		return -1;
	}
	return 0; /* The thread owns conn and connfd now. */
}

/* The accept loop's whole part: hands connfd to a new connection thread, or refuses it at once.
 * It never reads from a client, so no client can hold it up. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	int room;

	pthread_mutex_lock(&connections.lock);
	if ((room = connections.open < srv->opt.connections))
		connections.open++;
	pthread_mutex_unlock(&connections.lock);
	if (room && start_connection(srv, connfd) == 0)
		return;
	if (room)
		connection_closed(); /* Gives back the place it took. */
	/* A new socket's send buffer is empty, so this short answer never waits for the client. */
	response_send_error(connfd, 503);
	conn_close_at_once(connfd);
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
	pthread_mutex_lock(&connections.lock);
	while (connections.open > 0)
		pthread_cond_wait(&connections.none_left, &connections.lock);
	pthread_mutex_unlock(&connections.lock);
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
