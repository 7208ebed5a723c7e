/*
 * connections.c - a thread for each connection. See connections.h for the contract.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connections.h"

/* The connections being served, each on its thread: at most --connections. */
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
	struct server *srv; /* shared by every thread: read-only, but for what the lesson locks */
	int connfd;         /* serve() closes it */
	struct request req; /* this connection's own request buffer; the thread frees it */
	connection_serve_fn *serve;
};

/* A connection's thread: serves its client, then frees what it was handed. */
static void *connection_main(void *arg)
{
	struct connection *conn = arg;

	conn->serve(conn->srv, conn->connfd, &conn->req); /* Closes connfd. */
	request_free(&conn->req);
	free(conn);
	connection_closed();
	return NULL;
}

/* Gives connfd to a new connection thread. Returns 0, or -1 - and then connfd is still ours. */
static int start_connection(struct server *srv, int connfd, connection_serve_fn *serve)
{
	struct connection *conn = malloc(sizeof *conn);

	if (conn == NULL) {
		fprintf(stderr, "malloc connection: %s\n", strerror(errno));
		return -1;
	}
	conn->srv = srv;
	conn->connfd = connfd;
	conn->serve = serve;
	request_init(&conn->req);
	/* At a stop, the reader stops waiting for the client. */
	conn->req.stop_fd = srv->stop_fd;
	if (thread_start_detached(connection_main, conn, "connection") == -1) {
		free(conn); /* No thread: still ours. */
		return -1;
	}
	return 0; /* The thread owns conn and connfd now. */
}

void connections_hand_over(struct server *srv, int connfd, connection_serve_fn *serve)
{
	int room;

	pthread_mutex_lock(&connections.lock);
	if ((room = connections.open < srv->opt.connections))
		connections.open++;
	pthread_mutex_unlock(&connections.lock);
	if (room && start_connection(srv, connfd, serve) == 0)
		return;
	if (room)
		connection_closed(); /* Gives back the place it took. */
	/* A new socket's send buffer is empty, so this short answer never waits for the client. */
	response_send_error(connfd, 503);
	conn_close_at_once(connfd);
}

void connections_wait(void)
{
	pthread_mutex_lock(&connections.lock);
	while (connections.open > 0)
		pthread_cond_wait(&connections.none_left, &connections.lock);
	pthread_mutex_unlock(&connections.lock);
}
