/*
 * Lesson 06 - the status monitor. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 05's server: a client that got its 202 can never learn what became
 * of its job. Make the 202 say where to ask - "Location: /jobs/ID" - and answer GET /jobs/ID
 * with the job's state from a bounded status table that the workers keep up to date.
 *
 * Check your work with:  make check L=06
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job_queue.h"
#include "server.h"

/* The pool: set up by start_pool() before the first client, torn down by stop_pool(). */
static struct job_queue queue;
static pthread_t *workers;
static int worker_count;

/* The self-pipe: the signal handler writes to stop_pipe[1]; the accept loop watches
 * stop_pipe[0] (srv->stop_fd). Opened by catch_stop_signals(), closed by stop_server(). */
static int stop_pipe[2] = {-1, -1};

/*
 * TODO 1: the status table, at file scope: enum job_state (queued, running, done, failed), a
 *         struct job_status row - a copy of what GET reports (id, state, length, checksum),
 *         never a pointer to the job, which its worker frees - a mutex, and an array of
 *         srv->opt.table rows where job ID lives in row ID % size.
 * TODO 2: table functions that each hold the lock: table_add() (refuses if the row's job is
 *         unfinished), table_update(), table_forget(), and table_lookup(), which copies the row
 *         out under the lock.
 * TODO 3: in worker_main(), after gate_pass(): mark the job running; after job_run(), done
 *         with its checksum (ask job_run() for its struct job_result), or failed.
 * TODO 4: in queue_job(): table_add() before the push (503 if refused), table_forget() if the
 *         push is refused; hand the id back for the Location header - read it before the
 *         push, since after it the job is no longer yours.
 * TODO 5: in handle_client(): request_read_job_or_status(); for GET, answer 200 with JSON
 *         built from table_lookup()'s copy, or 404; for POST, response_send_accepted_at();
 *         errors go through response_send_request_error() (it adds the right Allow).
 * TODO 6: allocate the table in start_server(), free it in stop_server() after the workers
 *         are joined, and add OPTIONS_TABLE to the lesson's options.
 */

/* A worker: runs jobs from the queue until the queue is closed and empty. */
static void *worker_main(void *unused)
{
	struct job *job;

	(void)unused;
	while ((job = job_queue_pop(&queue)) != NULL) { /* Ours from the pop: freed below. */
		gate_pass();
		job_run(job, NULL);
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

/* Before the first client: the signals, then the pool. Returns 0, or -1. */
static int start_server(struct server *srv)
{
	return catch_stop_signals(srv) == -1 || start_pool(srv) == -1 ? -1 : 0;
}

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	stop_pool(srv);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
}

/* Hands the request's job to the queue. Returns 0, or 503 if the queue is at its limit. */
static int queue_job(struct server *srv, const struct request *req)
{
	/* A copy, not a pointer into req: req is reused for the next client once we return. */
	struct job *job = job_new(srv->next_id++, req->body, req->body_len);

	if (job == NULL)
		return 503;
	if (job_queue_push(&queue, job) == -1) {
		job_free(job); /* Refused, so it is still ours. */
		return 503;
	}
	return 0; /* The queue owns job now, and then a worker; we must not touch it again. */
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
