/*
 * Lesson 05 - graceful shutdown. This is your server: read README.md beside it first.
 *
 * As shipped, it is lesson 04's server, its pool now the core's (pool.h): SIGTERM kills it at
 * once, and every job still queued or running is lost. Make SIGTERM and SIGINT stop it the way
 * --max-clients already does: stop accepting, run every accepted job, join the workers, free
 * everything, exit 0.
 *
 * Check your work with:  make check L=05
 */
#include "pool.h"
#include "server.h"

/*
 * TODO 1: the self-pipe at file scope, static int stop_pipe[2] = {-1, -1}, and the handler,
 *         static void on_stop_signal(int signo): it write()s one byte to stop_pipe[1] and
 *         nothing else, saving and restoring errno. Say in a comment why it does no more.
 * TODO 2: static void release_stop_signals(void): signal(..., SIG_DFL) for SIGTERM and SIGINT
 *         first, and only then close() both ends of the pipe - never the other way round.
 * TODO 3: static int catch_stop_signals(struct server *srv): pipe(), O_NONBLOCK on the write
 *         end with fcntl(), sigaction() for SIGTERM and SIGINT, then srv->stop_fd =
 *         stop_pipe[0], the end the accept loop watches. A failure names its call, undoes what
 *         is done with release_stop_signals(), and returns -1.
 * TODO 4: replace start_pool() and stop_pool() below with start_server(): the signals, then
 *         the pool (and if the pool fails, the signals released again); and stop_server(): the
 *         pool, then the signals. Name them in main()'s struct lesson.
 *         You will need <errno.h>, <fcntl.h>, <signal.h>, <stdio.h>, <string.h>, <unistd.h>.
 */

/* Starts the workers, before the first client. Returns 0, or -1 with nothing left set up. */
static int start_pool(struct server *srv)
{
	return pool_start(srv->opt.workers, srv->opt.queue, pool_run_job);
}

/* After the last client: every accepted job runs, then the pool is freed. */
static void stop_pool(struct server *srv)
{
	(void)srv;
	pool_stop();
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
	        .start = start_pool,
	        .stop = stop_pool,
	};

	return server_run(argc, argv, &lesson);
}
