/*
 * server.h - the accept loop every server in the kit shares, and what a lesson plugs into it.
 *
 * A lesson's server.c is one function, handle_client(), plus whatever the lesson's idea needs.
 * server_main() parses the options, opens the job log and the gate, listens, prints the
 * readiness line, then calls handle_client() once per accepted client, one client after another.
 *
 * handle_client() takes over connfd: it must answer and close it before returning (or hand it
 * to a thread that will, as lesson 07's group commit and lesson 08's connection threads do). The
 * request buffer srv->request belongs to the accept loop and is reused for the very next client.
 */
#ifndef HANDOFF_SERVER_H
#define HANDOFF_SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "gate.h"
#include "job.h"
#include "net.h"
#include "options.h"
#include "request.h"
#include "response.h"

struct server {
	struct options opt;
	struct request request; /* the accept loop's one request, reused for every client */
	uint64_t next_id;       /* the next job's id: the accept loop's (lesson 08: under a lock) */
	int listen_fd;
	int stop_fd; /* once readable, the loop stops accepting (-1: never; lesson 05 on) */
};

typedef void client_handler(struct server *srv, int connfd);

/* Runs the server; returns main's exit status (2 for a bad command line). */
int server_main(int argc, char **argv, client_handler *handle_client);

/* What a lesson from 04 on plugs into the loop, besides handle_client. */
struct lesson {
	client_handler *handle_client;
	unsigned options; /* the extra options it takes (options.h) */
	/* Before the first client: returns 0, or -1 having undone what it set up - after a failed
	 * start, stop() is not called and server_run() returns 1. */
	int (*start)(struct server *srv);
	void (*stop)(struct server *srv); /* after the loop stops: finish the jobs, free */
};

/* server_main() for a lesson with start and stop hooks. The loop ends after --max-clients
 * clients, or when srv->stop_fd becomes readable; then stop() runs, and server_run returns 0. */
int server_run(int argc, char **argv, const struct lesson *lesson);

/* Starts start(arg) on a new thread named name (valgrind's reports show the name), which the
 * caller never joins: the core does, once it has finished. Returns 0, or -1 with a message; on
 * -1, arg is still the caller's. When its loop ends, server_run() waits for these threads before
 * it returns. */
int thread_start_detached(void *(*start)(void *), void *arg, const char *name);

/* Starts start(arg) on a new joinable thread named name; the caller joins it. Returns 0, or -1
 * with a message. */
int thread_start(pthread_t *thread, void *(*start)(void *), void *arg, const char *name);

#endif
