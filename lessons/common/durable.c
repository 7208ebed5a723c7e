/*
 * durable.c - jobs that survive a crash of the process. See durable.h for the contract.
 */
#include <inttypes.h>
#include <stdio.h>

#include "durable.h"
#include "journal.h"
#include "pool.h"
#include "replay.h"
#include "status_table.h"

/* Every accepted job, on disk before its 202; opened by durable_start(), closed by
 * durable_stop(). One write(2) per record, O_APPEND: any thread may append at any time. */
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

int durable_start(struct server *srv)
{
	if (table_start((size_t)srv->opt.table) == -1)
		return -1;
	if (pool_start(srv->opt.workers, srv->opt.queue, run_job) == -1)
		goto no_pool;
	if (journal_open(&journal, srv->opt.journal) == -1)
		goto no_journal;
	if (journal_replay(&journal, srv->opt.log_path, &srv->next_id, requeue) == -1)
		goto no_replay;
	return 0;
no_replay:
	journal_close(&journal);
no_journal:
	pool_stop(); /* Nothing was queued: the replay queues only once it has read it all. */
no_pool:
	table_stop();
	return -1;
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

int durable_accept(struct job *job)
{
	if (table_add(job->id, job->len) == -1) {
		job_free(job); /* Refused before the journal: nothing to take back. */
		return 503;
	}
	/* On disk before the 202: once journal_append_job() returns, no crash loses the job. */
	if (journal_append_job(&journal, job->id, job->body, job->len) == -1 ||
	    pool_push(job) == -1) {
		cancel_job(job); /* The journal may have it: no promise was made, so no run. */
		return 503;
	}
	return 0; /* The pool owns job now. */
}

void durable_stop(void)
{
	pool_stop();
	table_stop(); /* After the join: no worker writes a row any more. */
	journal_close(&journal);
}
