/*
 * Lesson 08 - the front door never waits. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 07's server, with its replay now in the core as well (replay.h,
 * beside journal.h). Its accept loop still serves one client at a time, so one client that
 * connects and sends nothing, or sends a byte a second, holds every other client - and SIGTERM -
 * for up to 7 seconds. Give each connection a thread of its own, and leave the accept loop
 * nothing to do but accept.
 *
 * Check your work with:  make check L=08
 */
#include <inttypes.h>
#include <stdio.h>

#include "journal.h"
#include "pool.h"
#include "replay.h"
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
 * TODO 5: the lock: queue_job() runs on many threads now. One mutex around everything from
 *         srv->next_id++ to pool_push(), so that ids are unique and the journal stays in id
 *         order (replay.h relies on it). Unlock on every way out.
 * TODO 6: the stop order: stop_server() first waits until no connection is open (they may
 *         still queue jobs), then pool_stop(), table_stop(), journal_close(), and
 *         stop_signal_release() last, since the connection threads watch its descriptor.
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
		 * start - unless its line is in the log, which the replay checks. */
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

/* Hands a copy of the request's job to the table, the journal and the pool, and its id to *id.
 * Returns 0, or 503 if the table or the pool is at its limit or the journal failed. */
static int queue_job(struct server *srv, const struct request *req, uint64_t *id)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(*id = srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	if (table_add(*id, job->len) == -1) {
		job_free(job); /* Refused, so it is still ours. */
		return 503;
	}
	/* On disk before the 202: once journal_append_job() returns, no crash loses the job. */
	if (journal_append_job(&journal, job->id, job->body, job->len) == -1 ||
	    pool_push(job) == -1) {
		cancel_job(job); /* The journal may have it: no promise was made, so no run. */
		return 503;
	}
	return 0; /* The pool owns job now; we must not touch it again. */
}

/* Serves one client: journal and queue a job (or refuse it) or report one; answer; close. Takes
 * over connfd. While it reads, the accept loop waits: so does every other client. */
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

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	(void)srv;
	pool_stop();
	table_stop(); /* After the join: no worker writes a row any more. */
	journal_close(&journal);
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
