/*
 * Lesson 05, variant a - graceful shutdown.
 *
 * SIGTERM or SIGINT stops the server the way --max-clients does: it stops accepting, lets every
 * accepted job finish, joins the workers, frees everything and exits 0. Every job answered with
 * 202 is in the job log exactly once. The signal handler does one async-signal-safe thing:
 * it writes a byte to a pipe, and the accept loop, which watches that pipe, does the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "server.h"

/* The self-pipe: the signal handler writes to stop_pipe[1]; the accept loop watches
 * stop_pipe[0] (srv->stop_fd). Opened by catch_stop_signals(), closed by release_stop_signals(). */
static int stop_pipe[2] = {-1, -1};

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

/* Gives the signals back their default action, then closes the pipe: the other order would
 * leave a moment in which a signal writes to a closed descriptor - or to a reused one. */
static void release_stop_signals(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
}

/* Makes SIGTERM and SIGINT write to the self-pipe, which the accept loop watches. */
static int catch_stop_signals(struct server *srv)
{
	struct sigaction action = {.sa_handler = on_stop_signal};
	int stop_pipe[2];

	if (pipe(stop_pipe) == -1) {
		fprintf(stderr, "pipe: %s\n", strerror(errno));
		return -1;
	}
	if (fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) == -1) {
		fprintf(stderr, "fcntl O_NONBLOCK: %s\n", strerror(errno));
		release_stop_signals();
		return -1;
	}
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGTERM, &action, NULL) == -1 || sigaction(SIGINT, &action, NULL) == -1) {
		fprintf(stderr, "sigaction: %s\n", strerror(errno));
		release_stop_signals();
		return -1;
	}
	srv->stop_fd = stop_pipe[0];
	return 0;
}

/* Before the first client: the signals, then the pool. Returns 0, or -1 with nothing left set
 * up. */
static int start_server(struct server *srv)
{
	if (catch_stop_signals(srv) == -1)
		return -1;
	if (pool_start(srv->opt.workers, srv->opt.queue, pool_run_job) == -1) {
		release_stop_signals();
		return -1;
	}
	return 0;
}

/* After the last client - or a signal: every accepted job runs, then everything is freed. */
static void stop_server(struct server *srv)
{
	(void)srv;
	pool_stop();
	release_stop_signals();
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
