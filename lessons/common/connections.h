/*
 * connections.h - a thread for each connection, at most --connections: lesson 08's idea, finished.
 *
 * connections_hand_over() is the accept loop's whole part (a lesson's handle_client()), and it
 * never reads from the client. If fewer than srv->opt.connections connections are open, it counts
 * one in and starts a detached thread named "connection", which owns connfd and a struct request
 * of its own, whose stop_fd is srv->stop_fd: the thread calls serve(srv, connfd, req), then frees
 * the request and counts the connection out. With no room, or if the hand-over fails, it answers
 * 503 itself and closes at once (conn_close_at_once()): a refusal must never wait on a client.
 *
 * serve() takes over connfd: it must answer and close it before it returns. req is its own until
 * then, and freed after: nothing that outlives serve() may point into it.
 *
 * Until serve() returns, a connection thread may still queue a job. A lesson's stop hook calls
 * connections_wait() first, and stops the pool, the table or the journal only after it returns.
 */
#ifndef HANDOFF_CONNECTIONS_H
#define HANDOFF_CONNECTIONS_H

#include "server.h"

/* Serves one connection on its own thread. Takes over connfd; borrows req. */
typedef void connection_serve_fn(struct server *srv, int connfd, struct request *req);

/* Hands connfd to a new connection thread that calls serve(), or refuses it with 503 at once.
 * Takes over connfd. Needs OPTIONS_CONNECTIONS (srv->opt.connections). */
void connections_hand_over(struct server *srv, int connfd, connection_serve_fn *serve);

/* Returns once no connection is open: every serve() has returned. */
void connections_wait(void);

#endif
