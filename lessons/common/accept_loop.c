/*
 * accept_loop.c - the shared accept loop. See server.h for the contract.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* Opens everything the loop needs. Returns 0 or -1. */
static int server_start(struct server *srv, int *port)
{
	/* A client that resets while we write must not kill us with SIGPIPE (we also pass
	 * MSG_NOSIGNAL to send(); this covers every other write). */
	signal(SIGPIPE, SIG_IGN);
	if (job_setup(srv->opt.log_path, srv->opt.work_ms) == -1 ||
	    gate_setup(srv->opt.gate_path) == -1)
		return -1;
	if ((srv->listen_fd = net_listen(srv->opt.port, port)) == -1)
		return -1;
	request_init(&srv->request);
	srv->next_id = 1;
	return 0;
}

/*
 * Threads started by thread_start_detached(): how many still run, and the finished ones not yet
 * joined. Their callers never join them; the core does. server_run() joins the finished ones
 * before each client (a finished thread's stack stays allocated until it is joined), and when
 * its loop ends - after --max-clients, or a stop through srv->stop_fd - it waits until none runs
 * and joins them all, so valgrind's leak check and the sanitizers see a normal exit with every
 * thread gone, and no job is cut short. (In lesson 03 only --max-clients ends the loop: it
 * serves the tests.)
 */
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t running_done = PTHREAD_COND_INITIALIZER;
static int running;
static struct thread_start *finished; /* a list, through next */

/* What thread_main() needs to start a thread's real work. The thread owns it; a thread of
 * thread_start_detached() hands it back, on the list of finished ones, when it is done. */
struct thread_start {
	void *(*start)(void *);
	void *arg;
	const char *name;
	int counted;               /* thread_start_detached()'s: counted in running, joined here */
	pthread_t thread;          /* once finished: the thread to join */
	struct thread_start *next; /* once finished: the next on the list */
};

/* Every thread of thread_start() and thread_start_detached() begins here: it names itself
 * (valgrind shows only a name a thread gave itself), does its work, and, if counted, counts
 * itself out and waits on the finished list to be joined. */
static void *thread_main(void *p)
{
	struct thread_start *ts = p;

	pthread_setname_np(pthread_self(), ts->name);
	ts->start(ts->arg);
	if (!ts->counted) {
		free(ts);
		return NULL;
	}
	pthread_mutex_lock(&running_lock);
	ts->thread = pthread_self();
	ts->next = finished;
	finished = ts; /* The core's again: whoever joins this thread frees it. */
	if (--running == 0)
		pthread_cond_broadcast(&running_done);
	pthread_mutex_unlock(&running_lock);
	return NULL;
}

/* Starts start(arg) on a new thread, through thread_main(). Returns 0, or -1 with a message. */
static int start_thread(pthread_t *thread, void *(*start)(void *), void *arg, const char *name,
                        int counted)
{
	struct thread_start *ts = malloc(sizeof *ts);
	int err;

	if (ts == NULL) {
		fprintf(stderr, "malloc thread start: %s\n", strerror(errno));
		return -1;
	}
	*ts = (struct thread_start){.start = start, .arg = arg, .name = name, .counted = counted};
	if (counted) {
		pthread_mutex_lock(&running_lock);
		running++;
		pthread_mutex_unlock(&running_lock);
	}
	if ((err = pthread_create(thread, NULL, thread_main, ts)) != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(err));
		if (counted) {
			pthread_mutex_lock(&running_lock);
			running--;
			pthread_mutex_unlock(&running_lock);
		}
		free(ts);
		return -1;
	}
	return 0;
}

int thread_start_detached(void *(*start)(void *), void *arg, const char *name)
{
	pthread_t thread;

	return start_thread(&thread, start, arg, name, 1);
}

int thread_start(pthread_t *thread, void *(*start)(void *), void *arg, const char *name)
{
	return start_thread(thread, start, arg, name, 0);
}

/* Joins the threads of thread_start_detached() that have finished. */
static void join_finished(void)
{
	pthread_mutex_lock(&running_lock);
	struct thread_start *list = finished;
	finished = NULL;
	pthread_mutex_unlock(&running_lock);
	while (list != NULL) {
		struct thread_start *next = list->next;
		/* Its work is done: at most it has its return to make. */
		pthread_join(list->thread, NULL);
		free(list);
		list = next;
	}
}

/* Waits until every thread from thread_start_detached() has finished, and joins them. */
static void wait_for_threads(void)
{
	pthread_mutex_lock(&running_lock);
	while (running > 0)
		pthread_cond_wait(&running_done, &running_lock);
	pthread_mutex_unlock(&running_lock);
	join_finished();
}

int server_run(int argc, char **argv, const struct lesson *lesson)
{
	struct server srv = {.stop_fd = -1};
	int parsed = options_parse(argc, argv, lesson->options, &srv.opt);
	int port;

	if (parsed != OPTIONS_OK)
		return parsed == OPTIONS_HELP ? 0 : 2;
	if (server_start(&srv, &port) == -1 || (lesson->start != NULL && lesson->start(&srv) == -1))
		return 1;
	/* The readiness line, once everything is in place: tests wait for it instead of guessing
	 * how long start-up takes. */
	printf("listening on 127.0.0.1:%d\n", port);
	fflush(stdout);
	for (long served = 0; srv.opt.max_clients == 0 || served < srv.opt.max_clients;) {
		int connfd = net_accept(srv.listen_fd, srv.stop_fd);
		if (connfd == NET_STOP)
			break;
		if (connfd == -1)
			continue;
		join_finished();
		lesson->handle_client(&srv, connfd); /* Takes over connfd. */
		served++;
	}
	/* Stop listening, let the jobs finish, free what the loop owns. */
	close(srv.listen_fd);
	if (lesson->stop != NULL)
		lesson->stop(&srv);
	wait_for_threads();
	request_free(&srv.request);
	return 0;
}

int server_main(int argc, char **argv, client_handler *handle_client)
{
	struct lesson lesson = {.handle_client = handle_client};

	return server_run(argc, argv, &lesson);
}
