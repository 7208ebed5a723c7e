/*
 * request.c - reading one request. See request.h for the contract.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <valgrind/memcheck.h>

#include "net.h"
#include "request.h"

/* Outcome of read_some(): bytes read (> 0), or one of these. */
enum { READ_EOF = 0, READ_ERROR = -1, READ_TIMEOUT = -2, READ_STOPPED = -3 };

/* Reads at most len bytes, waiting no later than the deadline - or than a stop, if stop_fd is
 * not -1. */
static long read_some(int fd, int stop_fd, void *buf, size_t len, long long deadline_ms)
{
	for (;;) {
		int ready = net_wait_readable_or_stop(fd, stop_fd, deadline_ms);
		if (ready == 0)
			return READ_TIMEOUT;
		if (ready == NET_STOP)
			return READ_STOPPED;
		if (ready == -1)
			return READ_ERROR;
		ssize_t n = recv(fd, buf, len, 0);
		if (n >= 0)
			return (long)n;
		if (errno != EINTR) {
			/* ECONNRESET is the client's choice, not our failure: say nothing. */
			if (errno != ECONNRESET)
				fprintf(stderr, "recv: %s\n", strerror(errno));
			return READ_ERROR;
		}
	}
}

void request_init(struct request *req)
{
	memset(req, 0, sizeof *req);
	req->stop_fd = -1;
}

void request_free(struct request *req)
{
	int stop_fd = req->stop_fd;

	free(req->body);
	request_init(req);
	req->stop_fd = stop_fd;
}

void request_clear(struct request *req)
{
	req->head_len = req->head_filled = 0;
	req->body_len = 0;
	/* Under valgrind, reading the old body from now on is reported like a read of freed memory.
	 * Outside valgrind this line does nothing. */
	VALGRIND_MAKE_MEM_NOACCESS(req->body, req->body_cap);
}

/* Finds the end of the head, the blank line, among the bytes read so far. Body bytes may follow
 * it in the same read, and they may contain anything, so this looks at bytes, not a C string. */
static int head_complete(struct request *req)
{
	for (size_t i = 0; i + 4 <= req->head_filled; i++) {
		if (memcmp(req->head + i, "\r\n\r\n", 4) == 0) {
			req->head_len = i + 4;
			return 1;
		}
	}
	return 0;
}

/* Splits "METHOD SP TARGET SP HTTP/1.x" into req->method and req->target. */
static int parse_request_line(struct request *req)
{
	char version[16];
	int consumed = 0;

	if (sscanf(req->head, "%15[A-Z] %255[^ \r\n] %15[^ \r\n]%n", req->method, req->target,
	           version, &consumed) != 3 ||
	    strncmp(req->head + consumed, "\r\n", 2) != 0)
		return 400;
	/* sscanf's blanks match any number of spaces, even none; HTTP wants exactly one. */
	if ((size_t)consumed != strlen(req->method) + strlen(req->target) + strlen(version) + 2)
		return 400;
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
		return strncmp(version, "HTTP/", 5) == 0 ? 505 : 400;
	return 0;
}

int request_read_head(int fd, struct request *req, long long deadline_ms)
{
	req->head_len = req->head_filled = 0;
	req->head[0] = '\0';
	while (!head_complete(req)) {
		size_t room = REQUEST_HEAD_MAX - req->head_filled;
		if (room == 0)
			return 431;
		long n = read_some(fd, req->stop_fd, req->head + req->head_filled, room,
		                   deadline_ms);
		if (n == READ_TIMEOUT)
			return 408;
		if ((n == READ_STOPPED || n == READ_EOF) && req->head_filled == 0)
			return -1; /* Connected and closed without a word, or idle at a stop. */
		if (n == READ_STOPPED)
			return 503; /* Half a request at a stop: "not now". */
		if (n == READ_ERROR)
			return -1; /* Gone. */
		if (n == READ_EOF)
			return 400; /* The head stopped half-way. */
		req->head_filled += (size_t)n;
		req->head[req->head_filled] = '\0';
	}
	if (memchr(req->head, '\0', req->head_len) != NULL)
		return 400; /* A NUL byte has no place in a request head. */
	return parse_request_line(req);
}

/*
 * Finds header field `name` and returns its value (leading blanks skipped), or NULL. Field names
 * are case-insensitive; a field that appears twice is reported through *twice.
 */
static const char *find_field(const struct request *req, const char *name, int *twice)
{
	size_t name_len = strlen(name);
	const char *found = NULL;
	const char *line = strstr(req->head, "\r\n") + 2;
	const char *end = req->head + req->head_len - 2;

	*twice = 0;
	for (; line < end; line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
			if (found != NULL)
				*twice = 1;
			found = line + name_len + 1;
			found += strspn(found, " \t");
		}
	}
	return found;
}

/* Reads Content-Length: digits only, at most REQUEST_BODY_MAX. */
static int parse_content_length(struct request *req)
{
	const char *value;
	char *end;
	int twice;

	if (find_field(req, "Transfer-Encoding", &twice) != NULL)
		return 501;
	if ((value = find_field(req, "Content-Length", &twice)) == NULL)
		return 411;
	if (twice || *value < '0' || *value > '9')
		return 400;
	errno = 0;
	unsigned long long length = strtoull(value, &end, 10);
	end += strspn(end, " \t");
	if (errno != 0 || strncmp(end, "\r\n", 2) != 0)
		return errno == ERANGE ? 413 : 400;
	if (length > REQUEST_BODY_MAX)
		return 413;
	req->content_length = (size_t)length;
	value = find_field(req, "Expect", &twice);
	req->expect_continue = value != NULL && strncasecmp(value, "100-continue", 12) == 0;
	return 0;
}

/* Makes room for content_length bytes of body. The buffer only grows, so it is reused. */
static int reserve_body(struct request *req)
{
	VALGRIND_MAKE_MEM_UNDEFINED(req->body, req->body_cap); /* Ours again, to fill. */
	if (req->content_length <= req->body_cap)
		return 0;
	unsigned char *bigger = realloc(req->body, req->content_length);
	if (bigger == NULL) {
		fprintf(stderr, "realloc %zu bytes: %s\n", req->content_length, strerror(errno));
		return 503;
	}
	req->body = bigger;
	req->body_cap = req->content_length;
	return 0;
}

int request_read_body(int fd, struct request *req, long long deadline_ms)
{
	static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
	int status = parse_content_length(req);

	if (status != 0 || (status = reserve_body(req)) != 0)
		return status;
	/* The head's last read may have brought the start of the body with it. */
	size_t early = req->head_filled - req->head_len;
	req->body_len = early < req->content_length ? early : req->content_length;
	if (req->body_len > 0)
		memcpy(req->body, req->head + req->head_len, req->body_len);
	if (req->expect_continue && req->body_len < req->content_length &&
	    net_write_all(fd, go_on, sizeof go_on - 1) == -1)
		return -1;
	while (req->body_len < req->content_length) {
		long n = read_some(fd, req->stop_fd, req->body + req->body_len,
		                   req->content_length - req->body_len, deadline_ms);
		if (n == READ_TIMEOUT)
			return 408;
		if (n == READ_STOPPED)
			return 503;
		if (n == READ_ERROR)
			return -1;
		if (n == READ_EOF)
			return 400; /* Fewer bytes than Content-Length promised. */
		req->body_len += (size_t)n;
	}
	return 0;
}

/* After the head: a request for /jobs must be POST, and its body is the new job's input. */
static int read_new_job(int fd, struct request *req, long long deadline)
{
	if (strcmp(req->target, "/jobs") != 0)
		return 404;
	req->allow = "POST";
	if (strcmp(req->method, "POST") != 0)
		return 405;
	return request_read_body(fd, req, deadline);
}

int request_read_job(int fd, struct request *req, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int status = request_read_head(fd, req, deadline);

	return status != 0 ? status : read_new_job(fd, req, deadline);
}

/* Reads the ID of a target "/jobs/ID": 1 to 18 digits, no leading zero. Returns 0 if it is not
 * one. */
static uint64_t parse_job_target(const char *target)
{
	const char *digits = target + strlen("/jobs/");
	char *end;

	if (strncmp(target, "/jobs/", strlen("/jobs/")) != 0 || *digits < '1' || *digits > '9' ||
	    strlen(digits) > 18)
		return 0;
	uint64_t id = strtoull(digits, &end, 10);
	return *end == '\0' ? id : 0;
}

int request_read_job_or_status(int fd, struct request *req, int timeout_ms, uint64_t *status_of)
{
	long long deadline = now_ms() + timeout_ms;
	int status = request_read_head(fd, req, deadline);

	*status_of = 0;
	if (status != 0)
		return status;
	if (strncmp(req->target, "/jobs/", strlen("/jobs/")) == 0) {
		if ((*status_of = parse_job_target(req->target)) == 0)
			return 404;
		req->allow = "GET";
		return strcmp(req->method, "GET") == 0 ? 0 : 405;
	}
	return read_new_job(fd, req, deadline);
}
