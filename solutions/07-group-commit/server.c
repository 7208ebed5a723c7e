/*
 * Lesson 07's stretch - group commit.
 *
 * Lesson 07's server (its replay now in the core: replay.h), plus --commit group: the accept
 * loop writes each job's record without waiting for the disk and hands the client to a
 * committer thread, which makes every record waiting durable with one fsync(2), and only then
 * queues their jobs and sends their 202s. With --commit each, the default, it is lesson 07's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Hands a copy of the request's job to *job, with its row in the table and its record in the
 * journal: on disk, unless the committer is to sync it (--commit group). Returns 0, or 503 if
 * the table is full or the journal failed. */
static int journal_job(struct server *srv, const struct request *req, struct job **job)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *copy = job_new(srv->next_id++, req->body, req->body_len);
	int written;

	if (copy == NULL)
		return 503;
	if (table_add(copy->id, copy->len) == -1) {
		job_free(copy); /* Refused, so it is still ours. */
		return 503;
	}
	if (srv->opt.group_commit)
		written = journal_write_job(&journal, copy->id, copy->body, copy->len);
	else
		written = journal_append_job(&journal, copy->id, copy->body, copy->len);
	if (written == -1) {
		cancel_job(copy); /* The journal may have it: no promise was made, so no run. */
		return 503;
	}
	*job = copy;
	return 0;
}

/* Refuses a journaled job: takes it back (cancel_job()), answers 503 and closes. Takes over
 * connfd and job. */
static void refuse_job(int connfd, struct job *job)
{
	cancel_job(job);
	response_send_error(connfd, 503);
	conn_close_lingering(connfd);
}

/* Queues a job whose record is on disk, answers 202 - or 503 if the pool is full - and closes.
 * Takes over connfd and job. */
static void queue_and_answer(int connfd, struct job *job)
{
	uint64_t id = job->id;

	if (pool_push(job) == -1) {
		refuse_job(connfd, job); /* Refused, so it is still ours. */
		return;
	}
	/* The pool owns job now: we use our copy of its id. */
	response_send_accepted_at(connfd, id);
	conn_close_lingering(connfd);
}

/* A client whose job's record is written but maybe not yet on disk. The accept loop gives the
 * socket and the job to the committer; from then on both are the committer's, until it queues
 * the job and closes the socket. */
struct acceptance {
	int connfd;
	struct job *job;
	struct acceptance *next;
};

/* The committer (--commit group): acceptances wait in a list until its next fsync. At most
 * workers + queue wait; beyond that the accept loop waits for the disk too. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct acceptance *first, **last; /* oldest first */
	size_t count, limit;
	int stopping;
	pthread_t thread;
} committer = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* Adds an acceptance to the committer's list (waiting while it is full). Takes over connfd and
 * job: if there is no memory for the hand-over, the client gets 503. */
static void committer_add(int connfd, struct job *job)
{
	struct acceptance *a = malloc(sizeof *a); /* Freed by the committer, once it answered. */

	if (a == NULL) {
		refuse_job(connfd, job);
		return;
	}
	*a = (struct acceptance){.connfd = connfd, .job = job};
	pthread_mutex_lock(&committer.lock);
	while (committer.count >= committer.limit)
		pthread_cond_wait(&committer.changed, &committer.lock);
	*committer.last = a;
	committer.last = &a->next;
	committer.count++;
	pthread_cond_broadcast(&committer.changed);
	pthread_mutex_unlock(&committer.lock);
}

/* Takes the whole list, waiting until there is one. Returns NULL once stopping and empty. */
static struct acceptance *committer_take(void)
{
	struct acceptance *all;

	pthread_mutex_lock(&committer.lock);
	while (committer.first == NULL && !committer.stopping)
		pthread_cond_wait(&committer.changed, &committer.lock);
	all = committer.first;
	committer.first = NULL;
	committer.last = &committer.first;
	committer.count = 0;
	pthread_cond_broadcast(&committer.changed);
	pthread_mutex_unlock(&committer.lock);
	return all;
}

/* The committer: one fsync for every acceptance waiting, then each job to the queue and each
 * client its answer. */
static void *committer_main(void *unused)
{
	struct acceptance *a, *next;

	(void)unused;
	while ((a = committer_take()) != NULL) {
		/* Every record in the list was written before it joined the list: this fsync
		 * puts them all on disk. */
		int synced = journal_sync(&journal);
		for (; a != NULL; a = next) {
			next = a->next;
			if (synced == 0)
				queue_and_answer(a->connfd, a->job);
			else
				refuse_job(a->connfd, a->job);
			free(a);
		}
	}
	return NULL;
}

/* Starts the committer, if --commit group asks for one. Returns 0, or -1. */
static int start_committer(struct server *srv)
{
	if (!srv->opt.group_commit)
		return 0;
	committer.last = &committer.first;
	committer.limit = (size_t)srv->opt.workers + (size_t)srv->opt.queue;
	return thread_start(&committer.thread, committer_main, NULL, "committer");
}

/* After the last client: the committer answers everyone still waiting, then ends. */
static void stop_committer(struct server *srv)
{
	if (!srv->opt.group_commit)
		return;
	pthread_mutex_lock(&committer.lock);
	committer.stopping = 1;
	pthread_cond_broadcast(&committer.changed);
	pthread_mutex_unlock(&committer.lock);
	pthread_join(committer.thread, NULL);
}

/* Before the first client: the table, the signals, the pool, the committer, then the journal's
 * jobs. Returns 0, or -1 with nothing left set up. */
static int start_server(struct server *srv)
{
	if (table_start((size_t)srv->opt.table) == -1)
		return -1;
	if ((srv->stop_fd = stop_signal_catch()) == -1)
		goto no_signals;
	if (pool_start(srv->opt.workers, srv->opt.queue, run_job) == -1)
		goto no_pool;
	if (start_committer(srv) == -1)
		goto no_committer;
	if (replay_journal(srv) == -1)
		goto no_replay;
	return 0;
no_replay:
	journal_close(&journal);
	stop_committer(srv);
no_committer:
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
	stop_committer(srv); /* First: it still queues jobs. */
	pool_stop();
	table_stop(); /* After the join: no worker writes a row any more. */
	journal_close(&journal);
	stop_signal_release();
}

/* Serves one client: journal a job (or refuse it) or report one; answer; close - or, with
 * --commit group, leave the answer and the close to the committer. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	struct job *job = NULL;
	uint64_t status_of;
	int status = request_read_job_or_status(connfd, req, srv->opt.timeout_ms, &status_of);

	if (status == 0 && status_of == 0)
		status = journal_job(srv, req, &job);
	request_clear(req); /* The job has its own copy; the buffer waits for the next client. */
	if (job != NULL && srv->opt.group_commit) {
		/* Both are the committer's now: it closes connfd, and queues job (a worker frees
		 * it) or refuses it (cancel_job() frees it). */
		committer_add(connfd, job);
		return;
	}
	if (job != NULL) {
		queue_and_answer(connfd, job);
		return;
	}
	if (status != 0)
		response_send_request_error(connfd, status, req);
	else
		send_status(connfd, status_of);
	conn_close_lingering(connfd);
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
