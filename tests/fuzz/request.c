/*
 * request.c - libFuzzer on the core's request reader (make fuzz, tests/tools/fuzz).
 *
 * Each input is one byte of choices, then the bytes a client sends. The harness writes those
 * bytes into one end of a socketpair and lets the reader read the other end, exactly as a
 * server would, with one struct request for every input of the run: a server reuses it too,
 * so a field that one request leaves behind must not spoil the next.
 *
 * The choice byte:
 *   bit 0  set: request_read_job_or_status() (lessons 06 on); clear: request_read_job().
 *   bit 1  set: the client's side stays open and the stop descriptor is readable, as at a
 *          SIGTERM in lesson 08; clear: the client shuts its side down (EOF) after its bytes.
 *   bit 2  set: request_free() first, so the request starts afresh, as in a new connection
 *          thread of lesson 08; clear: the request as the last input left it. (Reused, the body
 *          buffer soon has the largest size any input asked for, and an overrun of a smaller
 *          one would go unseen.)
 * ASCII '0' to '7' are the eight choices, which keeps the seed files readable.
 *
 * Whatever the choices, the reader has everything it will ever get before it starts, so it must
 * never wait: a 408 is a broken invariant, like the others, and ends the run with abort().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "request.h"

/* The reader gets all its bytes before it starts; the deadline is only there so that a reader
 * that waits anyway ends its input (with a 408, which the checks refuse) instead of hanging the
 * run. Generous, so that a machine busy with other work never trips it. */
enum { READ_TIMEOUT_MS = 500 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One request for the whole run, as a connection (or a server without threads) reuses it. */
static struct request req;
/* Readable from the start and forever: a stop that has already been signalled. */
static int stop_pipe[2];

/* A broken invariant: say which, and let abort() hand the input to libFuzzer. */
static void broken(const char *what, int status)
{
	fprintf(stderr, "fuzz request: %s (status %d, head_len %zu, body_len %zu)\n", what, status,
	        req.head_len, req.body_len);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	request_init(&req);
	if (pipe(stop_pipe) == -1 || write(stop_pipe[1], "x", 1) != 1) {
		perror("fuzz request: stop pipe");
		exit(1);
	}
	return 0;
}

/* Writes what the socket buffer takes, without ever blocking: the reader runs later, on this
 * thread. Returns the number of bytes the reader can get. A few inputs longer than the buffer
 * (the default, over 200 KiB, holds any -max_len the script uses) just arrive cut short. */
static size_t send_client_bytes(int fd, const uint8_t *bytes, size_t len)
{
	size_t sent = 0;

	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		perror("fuzz request: fcntl O_NONBLOCK");
		exit(1);
	}
	while (sent < len) {
		ssize_t n = write(fd, bytes + sent, len - sent);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	return sent;
}

/* Whatever the outcome: the status is one request.h documents, and the fields that are C
 * strings or lengths within a buffer still are. */
static void check_any(int status, int stopped, const uint8_t *client, size_t len)
{
	static const int documented[] = {-1, 0, 400, 404, 405, 411, 413, 417, 431, 501, 503, 505};
	size_t i = 0;

	while (i < sizeof documented / sizeof documented[0] && documented[i] != status)
		i++;
	if (i == sizeof documented / sizeof documented[0])
		broken("an undocumented status, or a 408 with every byte already there", status);
	if (status == 503 && !stopped)
		broken("503 without a stop", status);
	/* Nothing can make the reader give up on a client that sent something: there is no read
	 * error on a socketpair, and the 100 Continue always finds room. */
	if ((status == -1) != (len == 0))
		broken("no answer to a client that sent bytes, or an answer to one that sent none",
		       status);
	if (memchr(req.method, '\0', sizeof req.method) == NULL)
		broken("method is not NUL-terminated", status);
	if (memchr(req.target, '\0', sizeof req.target) == NULL)
		broken("target is not NUL-terminated", status);
	if (req.head_len > req.head_filled || req.head_filled > REQUEST_HEAD_MAX ||
	    req.head[req.head_filled] != '\0')
		broken("head_len, head_filled and the head's NUL do not agree", status);
	if (req.head_filled > len || memcmp(req.head, client, req.head_filled) != 0)
		broken("the head is not the bytes the client sent", status);
}

/* A request the reader accepted: a whole head, and for a job the body, byte for byte. */
static void check_accepted(uint64_t status_of, const uint8_t *client, size_t len)
{
	if (req.head_len < 4 || memcmp(req.head + req.head_len - 4, "\r\n\r\n", 4) != 0)
		broken("an accepted head that does not end with a blank line", 0);
	if (status_of != 0) {
		if (strcmp(req.method, "GET") != 0 || strncmp(req.target, "/jobs/", 6) != 0 ||
		    strtoull(req.target + 6, NULL, 10) != status_of)
			broken("a status request that is not GET /jobs/ID", 0);
		return;
	}
	if (strcmp(req.method, "POST") != 0 || strcmp(req.target, "/jobs") != 0)
		broken("a job that is not POST /jobs", 0);
	if (req.body_len != req.content_length || req.content_length > REQUEST_BODY_MAX ||
	    req.body_len > req.body_cap)
		broken("body_len, content_length and the limit do not agree", 0);
	if (req.head_len + req.body_len > len ||
	    (req.body_len > 0 && memcmp(req.body, client + req.head_len, req.body_len) != 0))
		broken("the body is not the bytes that followed the head", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	uint64_t status_of = 0;
	int status;

	if (size == 0)
		return 0;
	int with_status = data[0] & 1, stopped = (data[0] & 2) != 0;
	if (data[0] & 4)
		request_free(&req);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("fuzz request: socketpair");
		exit(1);
	}
	size_t len = send_client_bytes(sv[0], data + 1, size - 1);
	if (!stopped)
		shutdown(sv[0], SHUT_WR);
	req.stop_fd = stopped ? stop_pipe[0] : -1;
	if (with_status)
		status = request_read_job_or_status(sv[1], &req, READ_TIMEOUT_MS, &status_of);
	else
		status = request_read_job(sv[1], &req, READ_TIMEOUT_MS);
	check_any(status, stopped, data + 1, len);
	if (status == 0)
		check_accepted(status_of, data + 1, len);
	request_clear(&req);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
