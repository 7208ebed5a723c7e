/*
 * Lesson 07 - durable acceptance. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 06's server, with lesson 06's table now in the core as well
 * (status_table.h, beside pool.h and stop_signal.h). kill -9 it, and every job it answered 202
 * but had not finished is lost - a broken promise. Make each 202 durable: journal the job, on
 * disk, before the 202; mark it done after its log line; on start, run again what did not.
 *
 * Check your work with:  make check L=07
 */
#include "pool.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

/*
 * TODO 1: the journal (journal.h): a static struct journal, opened by replay_journal() (TODO 5)
 *         with journal_open() on srv->opt.journal; journal_close() in stop_server(), and in
 *         start_server() if the replay fails. Add OPTIONS_JOURNAL to main()'s options.
 * TODO 2: queue_job(): after table_add() and before pool_push(), journal_append_job() - it
 *         returns once the record is on disk, and only then may the 202 promise the job. If it
 *         fails, or pool_push() refuses, cancel_job() the job and answer 503.
 * TODO 3: cancel_job(job), for a job that will not run: journal_append_done() (or a restart
 *         runs a job whose client was told 503), table_forget(), job_free().
 * TODO 4: run_job(): journal_append_done() after a successful job_run() - after the log line,
 *         never before (the README says why).
 * TODO 5: replay_journal(), called by start_server() after pool_start(): journal_open(), then
 *         read_journal() reads every record with journal_read(). A job record: copy the job out
 *         with job_new() - its body lives in the journal's read buffer, which the next read
 *         reuses - keep it in a list in id order, and raise srv->next_id past its id. A done
 *         record: pending_find() its job (by bisection) and job_free() it. Then read_logged()
 *         reads the job log's ids once, and for each job not done: if logged() finds its line,
 *         journal_append_done() and job_free(); else table_add() and pool_push_wait() - a
 *         promised job is never refused.
 */

/* A worker's job: marks it running, runs it, records how it ended. The pool frees it. */
static void run_job(const struct job *job)
{
	struct job_result result;

	gate_pass();
	table_update(job->id, JOB_RUNNING, 0);
	if (job_run(job, &result) == 0)
		table_update(job->id, JOB_DONE, result.checksum);
	else
		table_update(job->id, JOB_FAILED, 0);
}

/* Hands a copy of the request's job to the table and the pool, and its id to *id. Returns 0, or
 * 503 if the table or the pool is at its limit. */
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
	if (pool_push(job) == -1) {
		table_forget(*id);
		job_free(job); /* Refused, so it is still ours. */
		return 503;
	}
	return 0; /* The pool owns job now; we must not touch it again. */
}

/* Before the first client: the table, the signals, then the pool. Returns 0, or -1 with nothing
 * left set up. */
static int start_server(struct server *srv)
{
	if (table_start((size_t)srv->opt.table) == -1)
		return -1;
	if ((srv->stop_fd = stop_signal_catch()) == -1)
		goto no_signals;
	if (pool_start(srv->opt.workers, srv->opt.queue, run_job) == -1)
		goto no_pool;
	return 0;
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
	stop_signal_release();
}

/* Serves one client: queue a job (or refuse it) or report one; answer; close. Takes over
 * connfd. */
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

int main(int argc, char **argv)
{
	static const struct lesson lesson = {
	        .handle_client = handle_client,
	        .options = OPTIONS_POOL | OPTIONS_TABLE,
	        .start = start_server,
	        .stop = stop_server,
	};

	return server_run(argc, argv, &lesson);
}
