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
	char head[512];
	char date[64];

	format_date(date, sizeof date);
	int n = snprintf(head, sizeof head,
	                 "HTTP/1.1 %d %s\r\n"
	                 "Date: %s\r\n"
	                 "Content-Length: %zu\r\n"
	                 "Connection: close\r\n"
	                 "%s"
	                 "\r\n",
	                 status, http_reason(status), date, len,
	                 extra_headers != NULL ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof head) {
		fprintf(stderr, "response head for %d does not fit %zu bytes\n", status,
		        sizeof head);
		return -1;
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
	char location[64];

	snprintf(location, sizeof location, "Location: /jobs/%" PRIu64 "\r\n", id);
	return response_send(fd, 202, location, NULL, 0);
}

int response_send_result(int fd, const struct job_result *result)
{
	char line[JOB_LOG_LINE_MAX];
	int n = job_format_line(result, line, sizeof line);

	return response_send(fd, 200, "Content-Type: text/plain\r\n", line, (size_t)n);
}

/* The error response itself; extra holds the header lines that go with this status. */
static int send_error(int fd, int status, const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));

	return response_send(fd, status, extra, body, (size_t)n);
}

int response_send_error(int fd, int status)
{
	if (status < 0)
		return -1;
	if (status == 405)
		return send_error(fd, status, "Content-Type: text/plain\r\nAllow: POST\r\n");
	if (status == 503)
		return send_error(fd, status, "Content-Type: text/plain\r\nRetry-After: 1\r\n");
	return send_error(fd, status, "Content-Type: text/plain\r\n");
}

int response_send_request_error(int fd, int status, const struct request *req)
{
	char extra[96];

	if (status != 405 || req->allow == NULL)
		return response_send_error(fd, status);
	snprintf(extra, sizeof extra, "Content-Type: text/plain\r\nAllow: %s\r\n", req->allow);
	return send_error(fd, status, extra);
}
