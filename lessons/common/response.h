/*
 * response.h - writing a whole HTTP/1.1 response, however many writes it takes.
 *
 * Every response says Connection: close and carries Content-Length, so the client knows exactly
 * where it ends. A client that went away makes these return -1; it never kills the server.
 */
#ifndef HANDOFF_RESPONSE_H
#define HANDOFF_RESPONSE_H

#include <stddef.h>

struct job_result;

/* Writes a response: status line, Date, Content-Length, Connection: close, the extra header
 * lines (each ending in "\r\n", or NULL for none), a blank line, then the body. */
int response_send(int fd, int status, const char *extra_headers, const void *body, size_t len);

/* 202 Accepted, empty body: "we have your job; it will run". */
int response_send_accepted(int fd);

/* 200 OK whose body is the job's log line: "<id> <length> <checksum>\n". */
int response_send_result(int fd, const struct job_result *result);

/* An error status with its reason phrase as a one-line body; adds Allow to 405 and Retry-After
 * to 503. A negative status (the client is gone) sends nothing. */
int response_send_error(int fd, int status);

/* "Not Found" for 404, and so on. */
const char *http_reason(int status);

#endif
