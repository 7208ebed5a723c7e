/*
 * Lesson 06 - the status monitor. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 05's server, its self-pipe now in the core (stop_signal.h): a client
 * that got its 202 can never learn what became of its job. Make the 202 say where to ask -
 * "Location: /jobs/ID" - and answer GET /jobs/ID with the job's state from a bounded status
 * table that the workers keep up to date.
 *
 * Check your work with:  make check L=06
 */
#include "pool.h"
#include "server.h"
#include "stop_signal.h"

/*
 * TODO 1: the status table, at file scope: enum job_state (queued, running, done, failed), a
 *         struct job_status row - a copy of what GET reports (id, state, length, checksum),
 *         never a pointer to the job, which the pool frees - a mutex, and an array of
 *         srv->opt.table rows where job ID lives in row ID % size.
 * TODO 2: table functions that each hold the lock: table_add() (refuses if the row's job is
 *         unfinished), table_update(), table_forget(), and table_lookup(), which copies the row
 *         out under the lock.
 * TODO 3: write run_job(const struct job *job), given to pool_start() instead of pool_run_job:
 *         gate_pass(), mark the job running, job_run(), then done with its checksum (ask for
 *         its struct job_result) or failed. The pool frees the job when run_job() returns.
 * TODO 4: in queue_job(): table_add() before the push (503 if refused), table_forget() if the
 *         push is refused; hand the id back for the Location header - read it before the
 *         push, since after it the job is no longer yours.
 * TODO 5: in handle_client(): request_read_job_or_status(); for GET, answer 200 with JSON
 *         built from table_lookup()'s copy, or 404; for POST, response_send_accepted_at();
 *         errors go through response_send_request_error() (it adds the right Allow).
 * TODO 6: allocate the table in start_server() (free it if a later step fails), free it in
 *         stop_server() after pool_stop() joined the workers; add OPTIONS_TABLE to the options.
 */

/* Before the first client: the signals, then the pool. Returns 0, or -1 with nothing left set
 * up. */
static int start_server(struct server *srv)
{
	if ((srv->stop_fd = stop_signal_catch()) == -1)
		return -1;
	if (pool_start(srv->opt.workers, srv->opt.queue, pool_run_job) == -1) {
		stop_signal_release();
		return -1;
	}
	return 0;
}

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	(void)srv;
	pool_stop();
	stop_signal_release();
}

/* Hands the request's job to the queue. Returns 0, or 503 if the queue is at its limit. */
static int queue_job(struct server *srv, const struct request *req)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	if (pool_push(job) == -1) {
		job_free(job); /* Refused, so it is still ours. */
		return 503;
	}
	return 0; /* The pool owns job now; we must not touch it again. */
}

/* Serves one client: queue the job (or refuse it), answer, close. Takes over connfd. */
static void handle_client(struct server *srv, int connfd)
{
	struct request *req = &srv->request;
	int status = request_read_job(connfd, req, srv->opt.timeout_ms);

	if (status == 0)
		status = queue_job(srv, req);
	request_clear(req); /* The job has its own copy; the buffer waits for the next client. */
	if (status == 0)
		response_send_accepted(connfd);
	else
		response_send_error(connfd, status);
	conn_close_lingering(connfd);
}

int main(int argc, char **argv)
{
	static const struct lesson lesson = {
	        .handle_client = handle_client,
	        .options = OPTIONS_POOL,
	        .start = start_server,
	        .stop = stop_server,
	};

	return server_run(argc, argv, &lesson);
}
