/*
 * Lesson 08 - the front door never waits.
 *
 * Lesson 07's server (its replay now in the core: replay.h), with the accept loop's work cut
 * down to accepting. Each connection gets a thread of its own, which owns the socket and its own
 * request buffer: it reads the request, journals and queues the job, answers and closes. A client
 * that sends slowly, or never closes, holds up only its own thread. At most --connections threads
 * at a time: one connection more gets 503 with Retry-After from the accept loop, which never
 * waits on that client. At a stop, a connection still waiting for its request is let go at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "pool.h"
#include "replay.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

/* The journal: every accepted job, on disk before its 202; opened by start_server(), closed by
 * stop_server(). One write(2) per record, O_APPEND: any thread may append at any time. */
static struct journal journal;

/* A worker's job: marks it running, runs it, records how it ended. The pool frees it. */
static void run_job(const struct job *job)
{
	struct job_result result;

	gate_pass();
	table_update(job->id, JOB_RUNNING, 0);
	if (job_run(job, &result) == 0) {
		/* After the log line, never before: a crash between the two runs the job again at
		 * start - unless its line is in the log, which the replay checks. So a done record
		 * that fails to be written (journal_append_done() says why) only costs that check. */
		journal_append_done(&journal, job->id);
		table_update(job->id, JOB_DONE, result.checksum);
	} else {
		table_update(job->id, JOB_FAILED, 0);
	}
}

/* A journaled job to run again: a row for GET if one is free (it runs either way), then the
 * pool, which owns it from then on; no pool refuses before the first client. */
static void requeue(struct job *job)
{
	table_add(job->id, job->len);
	if (pool_push_wait(job) == -1)
		job_free(job);
}

/* Opens the journal; runs again every promised job that has not run (replay.h). 0, or -1. */
static int replay_journal(struct server *srv)
{
	if (journal_open(&journal, srv->opt.journal) == -1)
		return -1;
	return journal_replay(&journal, srv->opt.log_path, &srv->next_id, requeue);
}

/* Takes back a journaled job that will not run: marked done, so that a restart does not run it
 * either; its row emptied; freed. */
static void cancel_job(struct job *job)
{
	if (journal_append_done(&journal, job->id) == -1)
		fprintf(stderr, "job %" PRIu64 " was refused, but a restart will run it\n",
		        job->id);
	table_forget(job->id);
	job_free(job);
}

/* Many connection threads accept jobs at once. This lock makes giving a job its id and writing
 * its record one step, so that the journal stays in id order, which the replay relies on; it
 * guards srv->next_id. */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

/* Hands a copy of the request's job to the table, the journal and the pool, and its id to *id.
 * Returns 0, or 503 if the table or the pool is at its limit or the journal failed. */
static int queue_job(struct server *srv, const struct request *req, uint64_t *id)
{
	int status = 503;

	pthread_mutex_lock(&accept_lock);
	/* A copy, not a pointer into req: the connection thread frees req once it has answered. */
	struct job *job = job_new(*id = srv->next_id++, req->body, req->body_len);
	if (job == NULL)
		goto out;
	if (table_add(*id, job->len) == -1) {
		job_free(job); /* Refused, so it is still ours. */
		goto out;
	}
	/* On disk before the 202: once journal_append_job() returns, no crash loses the job. */
	if (journal_append_job(&journal, job->id, job->body, job->len) == -1 ||
	    pool_push(job) == -1) {
		cancel_job(job); /* The journal may have it: no promise was made, so no run. */
		goto out;
	}
	status = 0; /* The pool owns job now; we must not touch it again. */
out:
	pthread_mutex_unlock(&accept_lock);
	return status;
}

/* Serves one client: journal and queue a job (or refuse it) or report one; answer; close. Takes
 * over connfd. */
static void serve_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
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
};

/* A connection's thread: serves its client, then frees what it was handed. */
static void *connection_main(void *arg)
{
	struct connection *conn = arg;

	serve_client(conn->srv, conn->connfd); /* Closes connfd. */
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

/* Before the first client: the table, the signals, the pool, then the journal's jobs.
 * Returns 0, or -1 with nothing left set up. */
static int start_server(struct server *srv)
{
	if (table_start((size_t)srv->opt.table) == -1)
		return -1;
	if ((srv->stop_fd = stop_signal_catch()) == -1)
		goto no_signals;
	srv->request.stop_fd = srv->stop_fd; /* At a stop, stop waiting for the client. */
	if (pool_start(srv->opt.workers, srv->opt.queue, run_job) == -1)
		goto no_pool;
	if (replay_journal(srv) == -1)
		goto no_replay;
	return 0;
no_replay:
	journal_close(&journal);
	pool_stop(); /* Nothing was queued: the replay queues only once it has read it all. */
no_pool:
	stop_signal_release();
no_signals:
	table_stop();
	return -1;
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
	pool_stop();
	table_stop(); /* After the join: no worker writes a row any more. */
	journal_close(&journal);
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
