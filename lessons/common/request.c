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

/* What a read that brought no bytes means: 408 at the deadline, 503 at a stop ("not now"), 400
 * for a client that closed half-way, -1 for one that is gone. */
static int read_failed(long n)
{
	if (n == READ_TIMEOUT)
		return 408;
	if (n == READ_STOPPED)
		return 503;
	return n == READ_EOF ? 400 : -1;
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
	req->head_len = req->head_filled = req->carried = req->request_end = 0;
	req->body_len = 0;
	/* Under valgrind, reading the old body from now on is reported like a read of freed memory.
	 * Outside valgrind this line does nothing. */
	VALGRIND_MAKE_MEM_NOACCESS(req->body, req->body_cap);
}

/* ---- The head: the request line and the field lines, up to the blank line ---- */

/* Checks the bytes that arrived since the last call, up to the blank line that ends the head
 * (body bytes may follow it in the same read), and sets head_len once that line is in. Returns
 * 400 as soon as a byte that has no place in a head arrives, not after waiting for a blank line. */
static int scan_head(struct request *req)
{
	for (; req->head_len == 0 && req->head_scanned < req->head_filled; req->head_scanned++) {
		size_t i = req->head_scanned;
		char c = req->head[i];

		if (c == '\r' && i + 1 == req->head_filled)
			return 0; /* Its LF may come with the next read. */
		/* A NUL has no place in a head. RFC 9112 section 2.2: a CR without its LF is invalid,
		 * and a bare LF a server may take as a line end or refuse. We refuse it: a program in
		 * front of us that took it the other way would see other fields than we do. */
		if (c == '\0' || (c == '\r' && req->head[i + 1] != '\n') ||
		    (c == '\n' && (i == 0 || req->head[i - 1] != '\r')))
			return 400;
		if (c == '\n' && (i == 1 || req->head[i - 2] == '\n'))
			req->head_len = i + 1; /* This CRLF ends an empty line: the head is in. */
	}
	return 0;
}

/* The blank line that ends the head has arrived (scan_head() has set head_len). */
static int head_complete(const struct request *req)
{
	return req->head_len > 0;
}

/* RFC 9112 section 3.2.2: a server must accept the absolute-form "http://host/jobs" too; its
 * path becomes the target (RFC 9110: "/" if empty, 4.2.3; 400 without a host, 4.2.1, or with a
 * "user@", 4.2.4). The authority-form and asterisk-form stay as they are, and get 404. */
static int take_path(char *target)
{
	if (strncasecmp(target, "http://", 7) != 0 && strncasecmp(target, "https://", 8) != 0)
		return 0;
	const char *authority = strstr(target, "//") + 2;
	const char *path = authority + strcspn(authority, "/?");
	if (path == authority || memchr(authority, '@', (size_t)(path - authority)) != NULL)
		return 400;
	if (*path == '\0')
		path = "/";
	memmove(target, path, strlen(path) + 1);
	return 0;
}

/* Splits "METHOD SP TARGET SP HTTP/1.x" into method, target and minor_version. Each %*1[ ] takes
 * one space, as RFC 9112 section 3 asks; a blank in a format would take any whitespace, or none. */
static int parse_request_line(struct request *req)
{
	char version[16];
	int consumed = 0;

	if (sscanf(req->head, "%15[A-Z]%*1[ ]%255[^ \r\n]%*1[ ]%15[^ \r\n]%n", req->method,
	           req->target, version, &consumed) != 3 ||
	    strncmp(req->head + consumed, "\r\n", 2) != 0)
		return 400;
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
		return strncmp(version, "HTTP/", 5) == 0 ? 505 : 400;
	req->minor_version = version[7] - '0';
	return take_path(req->target);
}

/* What a field name is made of: the characters of a token (RFC 9110 section 5.6.2). */
static const char token_chars[] = "!#$%&'*+-.^_`|~0123456789"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Checks every field line, "name: value" (RFC 9112 section 5), and counts the Host fields. */
static int check_fields(const struct request *req)
{
	const char *line = strstr(req->head, "\r\n") + 2;
	const char *end = req->head + req->head_len - 2;
	int hosts = 0;

	for (const char *eol; line < end; line = eol + 2) {
		const char *p = line + strspn(line, token_chars);
		eol = strstr(line, "\r\n");
		/* Section 5.2: a line that starts with a space or a tab continues the one before
		 * (obs-fold); a server must refuse it or unfold it. We refuse it, also right after
		 * the request line (section 2.2). */
		if (*line == ' ' || *line == '\t')
			return 400;
		/* Section 5.1: a name is a token, and the colon follows it at once. A server must
		 * answer 400 to "Transfer-Encoding : chunked", a field one program sees, another not. */
		if (p == line || *p != ':')
			return 400;
		/* RFC 9110 section 5.5: a value holds no control character but the tab, and no DEL. */
		while (++p < eol) {
			if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
				return 400;
		}
		if (strncasecmp(line, "Host:", 5) == 0)
			hosts++;
	}
	/* Section 3.2: 400 for an HTTP/1.1 request without Host, and for any request with two. */
	return (hosts > 1 || (hosts == 0 && req->minor_version == 1)) ? 400 : 0;
}

static int has_field(const struct request *req, const char *name);

/* Whether a Connection field names option. RFC 9110 section 7.6.1: its value is a list of
 * tokens, in any case, separated by commas and optional blanks, perhaps over several fields. */
static int connection_has(const struct request *req, const char *option)
{
	size_t len = strlen(option);
	const char *line = strstr(req->head, "\r\n") + 2;
	const char *end = req->head + req->head_len - 2;

	for (; line < end; line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, "Connection:", 11) != 0)
			continue;
		for (const char *p = line + 11; *p != '\r';) {
			p += strspn(p, " \t,");
			size_t n = strcspn(p, " \t,\r");
			if (n == len && strncasecmp(p, option, len) == 0)
				return 1;
			p += n;
		}
	}
	return 0;
}

/* RFC 9112 section 9.3: an HTTP/1.1 connection persists unless either side says "close"; an
 * HTTP/1.0 one only if the client asks with "keep-alive". */
static int wants_keep_alive(const struct request *req)
{
	if (connection_has(req, "close"))
		return 0;
	return req->minor_version == 1 || connection_has(req, "keep-alive");
}

int request_read_head(int fd, struct request *req, long long deadline_ms)
{
	/* A pipelined request may have begun in the previous one's last read (request_next()). */
	req->head_filled = req->carried;
	req->head_len = req->head_scanned = req->carried = req->request_end = 0;
	req->keep_alive = 0;
	req->head[req->head_filled] = '\0';
	if (scan_head(req) != 0)
		return 400;
	while (!head_complete(req)) {
		size_t room = REQUEST_HEAD_MAX - req->head_filled;
		if (room == 0)
			return 431;
		long n = read_some(fd, req->stop_fd, req->head + req->head_filled, room,
		                   deadline_ms);
		if ((n == READ_STOPPED || n == READ_EOF) && req->head_filled == 0)
			return -1; /* Connected and closed without a word, or idle at a stop. */
		if (n <= 0)
			return read_failed(n);
		req->head_filled += (size_t)n;
		req->head[req->head_filled] = '\0';
		if (scan_head(req) != 0)
			return 400;
	}
	int status = parse_request_line(req);
	if (status != 0 || (status = check_fields(req)) != 0)
		return status;
	req->keep_alive = wants_keep_alive(req);
	/* RFC 9112 section 6.3: a request with neither field has no body, so it ends with its head.
	 * With either, its end is known only once request_read_body() has read the body. */
	if (!has_field(req, "Content-Length") && !has_field(req, "Transfer-Encoding"))
		req->request_end = req->head_len;
	return 0;
}

/* ---- The body ---- */

/* Finds header field `name` and returns its value (leading blanks skipped), or NULL. Field names
 * are case-insensitive; a field that appears twice is reported through *twice. */
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

static int has_field(const struct request *req, const char *name)
{
	int twice;

	return find_field(req, name, &twice) != NULL;
}

/* Reads the fields about the body: no Transfer-Encoding; Content-Length, digits only, at most
 * REQUEST_BODY_MAX; and Expect. */
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
	req->expect_continue = 0;
	if ((value = find_field(req, "Expect", &twice)) == NULL)
		return 0;
	/* RFC 9110 section 10.1.1: 100-continue, in any case, is the one expectation there is. Any
	 * other value, or a second Expect, gets 417 before the body is read. An HTTP/1.0 client
	 * cannot know 100 Continue, so its 100-continue is ignored, as the RFC asks. */
	if (twice || strncasecmp(value, "100-continue", 12) != 0)
		return 417;
	value += 12 + strspn(value + 12, " \t");
	if (strncmp(value, "\r\n", 2) != 0)
		return 417;
	req->expect_continue = req->minor_version == 1;
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
	int status;

	req->request_end = 0; /* Until the whole body is in, this request's end is in doubt. */
	if ((status = parse_content_length(req)) != 0 || (status = reserve_body(req)) != 0)
		return status;
	/* The head's last read may have brought the start of the body with it - and, from a client
	 * that pipelines, the start of the next request after it. */
	size_t early = req->head_filled - req->head_len;
	req->body_len = early < req->content_length ? early : req->content_length;
	if (req->body_len > 0)
		memcpy(req->body, req->head + req->head_len, req->body_len);
	size_t end = req->head_len + req->body_len; /* The rest is read into body: never past it. */
	if (req->expect_continue && req->body_len < req->content_length &&
	    net_write_all(fd, go_on, sizeof go_on - 1) == -1)
		return -1;
	while (req->body_len < req->content_length) {
		long n = read_some(fd, req->stop_fd, req->body + req->body_len,
		                   req->content_length - req->body_len, deadline_ms);
		if (n <= 0)
			return read_failed(n);
		req->body_len += (size_t)n;
	}
	req->request_end = end;
	return 0;
}

/* ---- Jobs ---- */

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

/* ---- Keep-alive: the next request on the same connection ---- */

int request_keep_alive(const struct request *req)
{
	return req->keep_alive && req->request_end > 0;
}

void request_next(struct request *req)
{
	size_t next = 0;

	/* Only bytes past a known end are the next request's; after a refusal the caller closes. */
	if (req->request_end > 0 && req->request_end < req->head_filled) {
		next = req->head_filled - req->request_end;
		memmove(req->head, req->head + req->request_end, next);
	}
	request_clear(req);
	req->carried = next;
}

int request_wait_next(int fd, struct request *req, int idle_ms)
{
	if (req->carried > 0)
		return 1; /* Pipelined: the next request has already begun. */
	return net_wait_readable_or_stop(fd, req->stop_fd, now_ms() + idle_ms) == 1;
}
