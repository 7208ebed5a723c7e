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
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job_queue.h"
#include "journal.h"
#include "server.h"

/* The pool: set up by start_pool() before the first client, torn down by stop_pool(). */
static struct job_queue queue;
static pthread_t *workers;
static int worker_count;

/* The self-pipe: the signal handler writes to stop_pipe[1]; the accept loop watches
 * stop_pipe[0] (srv->stop_fd). Opened by catch_stop_signals(), closed by stop_server(). */
static int stop_pipe[2] = {-1, -1};

/* The journal: every accepted job, on disk before its 202. Opened and replayed by
 * start_server(), closed by stop_server(). Each append is one write(2) on an O_APPEND
 * descriptor, so the accept loop and the workers may append at the same time. */
static struct journal journal;

/* A job's state, as GET /jobs/ID reports it. */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };
static const char *const state_names[] = {"queued", "running", "done", "failed"};

/* One row of the status table: a copy of what GET /jobs/ID reports, not a pointer to the job,
 * which its worker frees when it is done. */
struct job_status {
	uint64_t id; /* 0: an empty row */
	enum job_state state;
	size_t len;
	uint64_t checksum; /* once done */
};

/*
 * The status table: the newest --table jobs, job ID in row ID % table_size. A new job takes the
 * row of the job table_size ids before it - the oldest one - if that job has finished; if not,
 * the row stays and the new job is refused with 503. Workers write rows and the accept loop
 * reads them, always holding table_lock; a reader copies the row out before it lets go.
 */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job_status *table; /* table_size rows, from start_server() to stop_server() */
static size_t table_size;

/* Gives job id its row, queued. Returns 0, or -1 if an unfinished job still holds the row. */
static int table_add(uint64_t id, size_t len)
{
	struct job_status *row = &table[id % table_size];
	int added = 0;

	pthread_mutex_lock(&table_lock);
	if (row->id == 0 || row->state == JOB_DONE || row->state == JOB_FAILED) {
		*row = (struct job_status){.id = id, .state = JOB_QUEUED, .len = len};
		added = 1;
	}
	pthread_mutex_unlock(&table_lock);
	return added ? 0 : -1;
}

/* Records a job's new state (and, once done, its checksum). */
static void table_update(uint64_t id, enum job_state state, uint64_t checksum)
{
	struct job_status *row = &table[id % table_size];

	pthread_mutex_lock(&table_lock);
	if (row->id == id) {
		row->state = state;
		row->checksum = checksum;
	}
	pthread_mutex_unlock(&table_lock);
}

/* Empties job id's row again: the job was refused after table_add(). */
static void table_forget(uint64_t id)
{
	pthread_mutex_lock(&table_lock);
	if (table[id % table_size].id == id)
		table[id % table_size] = (struct job_status){0};
	pthread_mutex_unlock(&table_lock);
}

/* Copies job id's row into *copy, under the lock. Returns 0, or -1 for an unknown id. */
static int table_lookup(uint64_t id, struct job_status *copy)
{
	int found;

	pthread_mutex_lock(&table_lock);
	*copy = table[id % table_size];
	found = copy->id == id;
	pthread_mutex_unlock(&table_lock);
	return found ? 0 : -1;
}

/* A worker: runs jobs from the queue until the queue is closed and empty. */
static void *worker_main(void *unused)
{
	struct job *job;

	(void)unused;
	while ((job = job_queue_pop(&queue)) != NULL) { /* Ours from the pop: freed below. */
		struct job_result result;

		gate_pass();
		table_update(job->id, JOB_RUNNING, 0);
		if (job_run(job, &result) == 0) {
			/* After the log line, never before: a crash between the two runs the job
			 * again at start - unless its line is in the log, which replay checks. */
			journal_append_done(&journal, job->id);
			table_update(job->id, JOB_DONE, result.checksum);
		} else {
			table_update(job->id, JOB_FAILED, 0);
		}
		job_free(job);
		job_queue_done(&queue);
	}
	return NULL;
}

/* Starts the workers, before the first client. Returns 0, or -1. */
static int start_pool(struct server *srv)
{
	if (job_queue_init(&queue, (size_t)srv->opt.workers + (size_t)srv->opt.queue) == -1)
		return -1;
	if ((workers = calloc((size_t)srv->opt.workers, sizeof *workers)) == NULL)
		return -1;
	for (; worker_count < srv->opt.workers; worker_count++) {
		if (thread_start(&workers[worker_count], worker_main, NULL, "worker") == -1)
			return -1;
	}
	return 0;
}

/* After the last client: the workers finish every queued job, then the pool is freed. */
static void stop_pool(struct server *srv)
{
	(void)srv;
	job_queue_close(&queue); /* Pops now drain the queue, then return NULL. */
	for (int i = 0; i < worker_count; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	job_queue_destroy(&queue); /* Only now: no worker can touch the queue any more. */
}

/*
 * Runs in whichever thread the signal interrupts, between any two instructions - maybe while
 * that thread holds a lock. So it calls only write(2), which is async-signal-safe, and keeps
 * errno as it found it. If the pipe is full, a stop is pending anyway.
 */
static void on_stop_signal(int signo)
{
	int saved_errno = errno;
	ssize_t ignored = write(stop_pipe[1], "", 1);

	(void)signo;
	(void)ignored;
	errno = saved_errno;
}

/* Makes SIGTERM and SIGINT write to the self-pipe, which the accept loop watches. */
static int catch_stop_signals(struct server *srv)
{
	struct sigaction action = {.sa_handler = on_stop_signal};

	if (pipe(stop_pipe) == -1 || fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) == -1) {
		fprintf(stderr, "stop pipe: %s\n", strerror(errno));
		return -1;
	}
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGTERM, &action, NULL) == -1 || sigaction(SIGINT, &action, NULL) == -1) {
		fprintf(stderr, "sigaction: %s\n", strerror(errno));
		return -1;
	}
	srv->stop_fd = stop_pipe[0];
	return 0;
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

static int pending_add(struct pending *p, struct job *job)
{
	if (p->count == p->cap) {
		size_t cap = p->cap > 0 ? 2 * p->cap : 64;
		struct pending_job *bigger = realloc(p->jobs, cap * sizeof *bigger);
		if (bigger == NULL)
			return -1;
		p->jobs = bigger;
		p->cap = cap;
	}
	p->jobs[p->count++] = (struct pending_job){.id = job->id, .job = job};
	return 0;
}

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

/* The ids in the job log, sorted. A crash can fall between a job's log line and its done record,
 * and that job must not run twice: the replay looks each pending job up here. Read once, so a
 * restart costs one pass over the log, however many jobs are pending. */
struct logged_ids {
	uint64_t *ids;
	size_t count;
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
	size_t cap = 0;
	uint64_t id;

	*logged = (struct logged_ids){0};
	if (log == NULL)
		return 0; /* No job log yet: no job has run. */
	while (fscanf(log, "%" SCNu64 " %*s %*s", &id) == 1) {
		if (logged->count == cap) {
			cap = cap > 0 ? 2 * cap : 1024;
			uint64_t *bigger = realloc(logged->ids, cap * sizeof *bigger);
			if (bigger == NULL) {
				fprintf(stderr, "realloc logged ids: %s\n", strerror(errno));
				fclose(log);
				free(logged->ids);
				*logged = (struct logged_ids){0};
				return -1;
			}
			logged->ids = bigger;
		}
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

/* Reads the journal into *pending. Returns 0, or -1. */
static int read_journal(struct server *srv, struct pending *pending)
{
	struct journal_record rec;
	struct pending_job *done;
	int got;

	while ((got = journal_read(&journal, &rec)) == 1) {
		if (rec.kind == 'D' && (done = pending_find(pending, rec.id)) != NULL) {
			job_free(done->job);
			done->job = NULL;
		} else if (rec.kind == 'J') {
			struct job *job = malloc(sizeof *job);
			if (job != NULL)
				*job = (struct job){.id = rec.id, .len = rec.len, .body = rec.body};
			if (job == NULL || pending_add(pending, job) == -1) {
				free(job);
				return -1;
			}
			if (rec.id >= srv->next_id)
				srv->next_id = rec.id + 1;
		}
	}
	return got;
}

/* Every journaled job not marked done goes back to the queue - its 202 went out, so it must
 * run - and new ids continue after the highest one. Returns 0, or -1. */
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
			journal_append_done(&journal, job->id);
			job_free(job);
		} else {
			table_add(job->id, job->len);
			/* The queue owns it now, and then the worker that runs it and frees it. Only a
			 * closed queue refuses, and none is closed before the first client. */
			if (job_queue_push_wait(&queue, job) == -1)
				job_free(job);
		}
	}
	free(pending.jobs);
	free(done_in_log.ids);
	return status;
}

/* Answers GET /jobs/ID from a copy of the job's row. */
static void send_status(int connfd, uint64_t id)
{
	struct job_status row;
	char body[160];
	int n;

	if (table_lookup(id, &row) == -1) {
		response_send_error(connfd, 404);
		return;
	}
	n = snprintf(body, sizeof body, "{\"id\":%" PRIu64 ",\"state\":\"%s\",\"length\":%zu",
	             row.id, state_names[row.state], row.len);
	if (row.state == JOB_DONE)
		n += snprintf(body + n, sizeof body - (size_t)n, ",\"checksum\":\"%016" PRIx64 "\"",
		              row.checksum);
	n += snprintf(body + n, sizeof body - (size_t)n, "}\n");
	response_send(connfd, 200, "Content-Type: application/json\r\n", body, (size_t)n);
}

/* Takes back a journaled job that will not run: marked done, so that a restart does not run
 * it either; its row emptied; freed. */
static void cancel_job(struct job *job)
{
	journal_append_done(&journal, job->id);
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
		cancel_job(copy); /* In case the record got in: no promise was made. */
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

/* Queues a job whose record is on disk, answers 202 - or 503 if the queue is full - and closes.
 * Takes over connfd and job. */
static void queue_and_answer(int connfd, struct job *job)
{
	uint64_t id = job->id;

	if (job_queue_push(&queue, job) == -1) {
		refuse_job(connfd, job); /* Refused, so it is still ours. */
		return;
	}
	/* The queue owns job now, and then a worker: we use our copy of its id. */
	response_send_accepted_at(connfd, id);
	conn_close_lingering(connfd);
}

/*
 * The stretch, group commit (--commit group): the accept loop writes the record but does not
 * wait for the disk; it hands the client and the job to a committer thread and reads the next
 * request. The committer makes every record waiting durable with one fsync, then queues each job
 * and sends its 202.
 *
 * A client whose job's record is written but maybe not yet on disk. The accept loop gives the
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

/* Before the first client: the table, the signals, the pool, then the journal's jobs. Returns
 * 0, or -1. */
static int start_server(struct server *srv)
{
	table_size = (size_t)srv->opt.table;
	if ((table = calloc(table_size, sizeof *table)) == NULL)
		return -1;
	if (catch_stop_signals(srv) == -1 || start_pool(srv) == -1 || start_committer(srv) == -1)
		return -1;
	return replay_journal(srv);
}

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	stop_committer(srv); /* First: it still queues jobs. */
	stop_pool(srv);
	free(table); /* After the join: no worker writes a row any more. */
	journal_close(&journal);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
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
