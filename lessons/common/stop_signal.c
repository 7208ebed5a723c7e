/*
 * stop_signal.c - the self-pipe. See stop_signal.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stop_signal.h"

/* The handler writes to stop_pipe[1]; the accept loop watches stop_pipe[0]. */
static int stop_pipe[2] = {-1, -1};

/* Runs in whichever thread the signal interrupts - maybe while that thread holds a lock - so it
 * calls only write(2), which is async-signal-safe, and keeps errno as it found it. If the pipe is
 * full, a stop is pending anyway. */
static void on_stop_signal(int signo)
{
	int saved_errno = errno;
	ssize_t ignored = write(stop_pipe[1], "", 1);

	(void)signo;
	(void)ignored;
	errno = saved_errno;
}

int stop_signal_catch(void)
{
	struct sigaction action = {.sa_handler = on_stop_signal};

	if (pipe(stop_pipe) == -1) {
		fprintf(stderr, "stop_signal_catch: pipe: %s\n", strerror(errno));
		return -1;
	}
	/* Non-blocking: a burst of signals must never leave the handler stuck on a full pipe. */
	if (fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) == -1) {
		fprintf(stderr, "stop_signal_catch: fcntl O_NONBLOCK: %s\n", strerror(errno));
		stop_signal_release();
		return -1;
	}
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGTERM, &action, NULL) == -1 || sigaction(SIGINT, &action, NULL) == -1) {
		fprintf(stderr, "stop_signal_catch: sigaction: %s\n", strerror(errno));
		stop_signal_release();
		return -1;
	}
	return stop_pipe[0];
}

void stop_signal_release(void)
{
	signal(SIGTERM, SIG_DFL); /* First: from here on, no handler writes to the pipe. */
	signal(SIGINT, SIG_DFL);
	for (int i = 0; i < 2; i++) {
		if (stop_pipe[i] != -1)
			close(stop_pipe[i]);
		stop_pipe[i] = -1;
	}
}
