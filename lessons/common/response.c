/*
 * response.c - writing responses. See response.h for the contract.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "net.h"
#include "request.h"
#include "response.h"

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/*
 * Every body the kit sends is short (a status line, a job's log line, a row as JSON), and each
 * goes out in the same send() as its head. Two small sends in a row would meet Nagle's algorithm
 * on a connection that stays open: the second waits until the client acknowledges the first,
 * and a client delays that acknowledgement by up to 40 ms (on Linux) in the hope of something to
 * send with it. A connection that is closed next flushes at once, which is why lessons 01 to 08
 * never saw it.
 */
enum { RESPONSE_BODY_WITH_HEAD = 512 };

/* The Date field every response carries (RFC 9110, section 6.6.1), in the IMF-fixdate format. */
static void format_date(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int response_send(int fd, int status, const char *extra_headers, const void *body, size_t len)
{
	return response_send_conn(fd, status, extra_headers, body, len, 0);
}

int response_send_conn(int fd, int status, const char *extra_headers, const void *body, size_t len,
                       int keep_alive)
{
	char head[512 + RESPONSE_BODY_WITH_HEAD];
	char date[64];

	format_date(date, sizeof date);
	/* "keep-alive" is what an HTTP/1.0 client needs to hear (RFC 9112 section 9.3); an HTTP/1.1
	 * client keeps the connection anyway unless it hears "close". nginx says it to both. */
	int n = snprintf(head, sizeof head,
	                 "HTTP/1.1 %d %s\r\n"
	                 "Date: %s\r\n"
	                 "Content-Length: %zu\r\n"
	                 "Connection: %s\r\n"
	                 "%s"
	                 "\r\n",
	                 status, http_reason(status), date, len,
	                 keep_alive ? "keep-alive" : "close",
	                 extra_headers != NULL ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof head - RESPONSE_BODY_WITH_HEAD) {
		fprintf(stderr, "response head for %d does not fit %zu bytes\n", status,
		        sizeof head - RESPONSE_BODY_WITH_HEAD);
		return -1;
	}
	/* A short body goes out with its head, in one send(). */
	if (len > 0 && len <= RESPONSE_BODY_WITH_HEAD) {
		memcpy(head + n, body, len);
		return net_write_all(fd, head, (size_t)n + len);
	}
	if (net_write_all(fd, head, (size_t)n) == -1)
		return -1;
	return len > 0 ? net_write_all(fd, body, len) : 0;
}

int response_send_accepted(int fd)
{
	return response_send(fd, 202, NULL, NULL, 0);
}

int response_send_accepted_at(int fd, uint64_t id)
{
	return response_send_accepted_at_conn(fd, id, 0);
}

int response_send_accepted_at_conn(int fd, uint64_t id, int keep_alive)
{
	char location[64];

	snprintf(location, sizeof location, "Location: /jobs/%" PRIu64 "\r\n", id);
	return response_send_conn(fd, 202, location, NULL, 0, keep_alive);
}

int response_send_result(int fd, const struct job_result *result)
{
	char line[JOB_LOG_LINE_MAX];
	int n = job_format_line(result, line, sizeof line);

	return response_send(fd, 200, "Content-Type: text/plain\r\n", line, (size_t)n);
}

/* The error response itself; extra holds the header lines that go with this status. */
static int send_error(int fd, int status, const char *extra, int keep_alive)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));

	return response_send_conn(fd, status, extra, body, (size_t)n, keep_alive);
}

/* response_send_error(), with the methods a 405 names and the Connection field to send. */
static int send_error_allowing(int fd, int status, const char *allow, int keep_alive)
{
	char extra[96];

	if (status < 0)
		return -1;
	if (status == 405) {
		snprintf(extra, sizeof extra, "Content-Type: text/plain\r\nAllow: %s\r\n", allow);
		return send_error(fd, status, extra, keep_alive);
	}
	if (status == 503)
		return send_error(fd, status, "Content-Type: text/plain\r\nRetry-After: 1\r\n",
		                  keep_alive);
	return send_error(fd, status, "Content-Type: text/plain\r\n", keep_alive);
}

int response_send_error(int fd, int status)
{
	return response_send_error_conn(fd, status, 0);
}

int response_send_error_conn(int fd, int status, int keep_alive)
{
	return send_error_allowing(fd, status, "POST", keep_alive);
}

int response_send_request_error(int fd, int status, const struct request *req)
{
	return response_send_request_error_conn(fd, status, req, 0);
}

int response_send_request_error_conn(int fd, int status, const struct request *req, int keep_alive)
{
	return send_error_allowing(fd, status, req->allow != NULL ? req->allow : "POST",
	                           keep_alive);
}
