/*
 * Lesson 06, variant a - the status monitor.
 *
 * The 202 says where to ask about the job: "Location: /jobs/ID". GET /jobs/ID answers with the
 * job's state - queued, running, done or failed - in a small JSON body, or 404 for an id the
 * server does not know (any more). The table keeps the newest --table jobs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "pool.h"
#include "server.h"
#include "stop_signal.h"

/* A job's state, as GET /jobs/ID reports it. */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };
static const char *const state_names[] = {"queued", "running", "done", "failed"};

/* One row of the status table: what GET /jobs/ID reports. */
struct job_status {
	uint64_t id; /* 0: an empty row */
	enum job_state state;
	const struct job *job; /* its length, and whatever else we may want to report */
	uint64_t checksum;     /* once done */
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
static int table_add(uint64_t id, const struct job *job)
{
	struct job_status *row = &table[id % table_size];
	int added = 0;

	pthread_mutex_lock(&table_lock);
	if (row->id == 0 || row->state == JOB_DONE || row->state == JOB_FAILED) {
		*row = (struct job_status){.id = id, .state = JOB_QUEUED, .job = job};
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

/* Before the first client: the table, the signals, then the pool. Returns 0, or -1 with nothing
 * left set up. */
static int start_server(struct server *srv)
{
	table_size = (size_t)srv->opt.table;
	if ((table = calloc(table_size, sizeof *table)) == NULL) {
		perror("calloc status table");
		return -1;
	}
	if ((srv->stop_fd = stop_signal_catch()) == -1) {
		free(table);
		return -1;
	}
	if (pool_start(srv->opt.workers, srv->opt.queue, run_job) == -1) {
		stop_signal_release();
		free(table);
		return -1;
	}
	return 0;
}

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	(void)srv;
	pool_stop();
	free(table); /* After the join: no worker writes a row any more. */
	stop_signal_release();
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
	             row.id, state_names[row.state], row.job->len);
	if (row.state == JOB_DONE)
		n += snprintf(body + n, sizeof body - (size_t)n, ",\"checksum\":\"%016" PRIx64 "\"",
		              row.checksum);
	n += snprintf(body + n, sizeof body - (size_t)n, "}\n");
	response_send(connfd, 200, "Content-Type: application/json\r\n", body, (size_t)n);
}

/* Hands the request's job to the table and the queue, and its id to *id. Returns 0, or 503 if
 * the table or the queue is at its limit. */
static int queue_job(struct server *srv, const struct request *req, uint64_t *id)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(*id = srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	if (table_add(*id, job) == -1) {
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
