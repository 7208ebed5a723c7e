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
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "connections.h"
#include "journal.h"
#include "pool.h"
#include "replay.h"
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

/* Before the first client: the table, the signals, the pool, then the journal's jobs.
 * Returns 0, or -1 with nothing left set up. */
static int start_server(struct server *srv)
{
	if (table_start((size_t)srv->opt.table) == -1)
		return -1;
	if ((srv->stop_fd = stop_signal_catch()) == -1)
		goto no_signals;
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
	connections_wait();
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
