/*
 * Lesson 07, variant a - durable acceptance.
 *
 * A 202 is a promise, and a promise must outlive the process. Before it answers 202, the server
 * appends the job - id and body - to a journal (--journal PATH) and waits for fsync(2). A worker
 * marks the job done in the journal after its log line. On start, the server reads the journal
 * and runs again every job that is not marked done and not in the job log; new ids continue
 * after the highest journaled one. kill -9 at any moment, restart: every job that got a 202 is
 * in the job log exactly once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "pool.h"
#include "server.h"
#include "status_table.h"
#include "stop_signal.h"

/* The journal: every accepted job, on disk before its 202. Opened and replayed by
 * start_server(), closed by stop_server(). Each append is one write(2) on an O_APPEND
 * descriptor, so the accept loop and the workers may append at the same time. */
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

/* Makes room for one more element in a growing array of *cap elements of size bytes. Returns
 * the array (perhaps moved), or NULL with a message - and then the old one is still valid. */
static void *grow(void *array, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return array;
	size_t bigger = *cap > 0 ? 2 * *cap : 64;
	void *moved = realloc(array, bigger * size);
	if (moved == NULL) {
		fprintf(stderr, "realloc %zu bytes: %s\n", bigger * size, strerror(errno));
		return NULL;
	}
	*cap = bigger;
	return moved;
}

/* The journaled jobs, in id order (the accept loop journals in id order); job is NULL once the
 * journal marks it done. The jobs are ours until replay_journal() frees them or queues them. */
struct pending {
	struct pending_job {
		uint64_t id;
		struct job *job;
	} * jobs;
	size_t count, cap;
};

/* Finds job id among the pending ones, by bisection; NULL if it was never journaled. */
static struct pending_job *pending_find(struct pending *p, uint64_t id)
{
	size_t low = 0, high = p->count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		if (p->jobs[mid].id == id)
			return &p->jobs[mid];
		if (p->jobs[mid].id < id)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

/* Reads the journal into *pending. Returns 0, or -1. */
static int read_journal(struct server *srv, struct pending *pending)
{
	struct journal_record rec;
	struct pending_job *done, *more;
	int got;

	while ((got = journal_read(&journal, &rec)) == 1) {
		if (rec.kind == 'D' && (done = pending_find(pending, rec.id)) != NULL) {
			job_free(done->job);
			done->job = NULL;
		} else if (rec.kind == 'J') {
			more = grow(pending->jobs, pending->count, &pending->cap, sizeof *more);
			if (more == NULL)
				return -1;
			pending->jobs = more;
			struct job *job = malloc(sizeof *job);
			if (job == NULL) {
				perror("malloc job");
				return -1;
			}
			*job = (struct job){.id = rec.id, .len = rec.len, .body = rec.body};
			pending->jobs[pending->count++] =
			        (struct pending_job){.id = rec.id, .job = job};
			if (rec.id >= srv->next_id)
				srv->next_id = rec.id + 1;
		}
	}
	return got;
}

/* The ids in the job log, sorted. A crash can fall between a job's log line and its done record,
 * and that job must not run twice: the replay looks each pending job up here. Read once, so a
 * restart costs one pass over the log, however many jobs are pending. */
struct logged_ids {
	uint64_t *ids;
	size_t count, cap;
};

static int compare_ids(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Reads every id of the job log into *logged, sorted. Returns 0, or -1 with a message. */
static int read_logged(const char *log_path, struct logged_ids *logged)
{
	FILE *log = fopen(log_path, "r");
	uint64_t id, *more;

	if (log == NULL)
		return 0; /* No job log yet: no job has run. */
	while (fscanf(log, "%" SCNu64 " %*s %*s", &id) == 1) {
		if ((more = grow(logged->ids, logged->count, &logged->cap, sizeof id)) == NULL) {
			fclose(log);
			return -1;
		}
		logged->ids = more;
		logged->ids[logged->count++] = id;
	}
	fclose(log);
	if (logged->count > 0)
		qsort(logged->ids, logged->count, sizeof *logged->ids, compare_ids);
	return 0;
}

/* Whether the job log already has job id's line. */
static int logged(const struct logged_ids *logged, uint64_t id)
{
	return logged->count > 0 &&
	       bsearch(&id, logged->ids, logged->count, sizeof id, compare_ids) != NULL;
}

/* Every journaled job not marked done goes back to the pool - its 202 went out, so it must run -
 * and new ids continue after the highest one. Returns 0, or -1. */
static int replay_journal(struct server *srv)
{
	struct pending pending = {0};
	struct logged_ids done_in_log = {0};
	int status;

	if (journal_open(&journal, srv->opt.journal) == -1)
		return -1;
	status = read_journal(srv, &pending);
	if (status == 0)
		status = read_logged(srv->opt.log_path, &done_in_log);
	for (size_t i = 0; i < pending.count; i++) {
		struct job *job = pending.jobs[i].job;
		if (job == NULL)
			continue;
		if (status == -1) {
			job_free(job); /* The server will not start; the journal keeps the job. */
		} else if (logged(&done_in_log, job->id)) {
			/* If this fails, the next start asks the job log again. */
			journal_append_done(&journal, job->id);
			job_free(job);
		} else {
			/* A row for GET, if one is free: the job runs either way, it was promised. */
			table_add(job->id, job->len);
			/* The pool owns it now, and the worker that runs it frees it. Only a stopping
			 * pool refuses, and none is stopping before the first client. */
			if (pool_push_wait(job) == -1)
				job_free(job);
		}
	}
	free(pending.jobs);
	free(done_in_log.ids);
	return status;
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

/* Serves one client: journal and queue a job (or refuse it) or report one; answer; close. Takes
 * over connfd. */
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
	        .options = OPTIONS_POOL | OPTIONS_TABLE | OPTIONS_JOURNAL,
	        .start = start_server,
	        .stop = stop_server,
	};

	return server_run(argc, argv, &lesson);
}
