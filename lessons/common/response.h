/*
 * response.h - writing a whole HTTP/1.1 response, however many writes it takes.
 *
 * Every response says Connection: close and carries Content-Length, so the client knows exactly
 * where it ends. A client that went away makes these return -1; it never kills the server.
 *
 * From lesson 09 on, a connection may carry many requests: the _conn forms below take one more
 * argument, keep_alive, and say "Connection: keep-alive" when it is 1 (the server reads the next
 * request on this connection), "Connection: close" when it is 0 (it closes after this response).
 * Content-Length frames every response either way, so the client knows where this one ends and
 * the next begins.
 */
#ifndef HANDOFF_RESPONSE_H
#define HANDOFF_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

struct job_result;
struct request;

/* Writes a response: status line, Date, Content-Length, Connection: close, the extra header
 * lines (each ending in "\r\n", or NULL for none), a blank line, then the body. */
int response_send(int fd, int status, const char *extra_headers, const void *body, size_t len);

/* 202 Accepted, empty body: "we have your job; it will run". */
int response_send_accepted(int fd);

/* 202 Accepted with "Location: /jobs/ID", where the job's status can be read (lesson 06 on). */
int response_send_accepted_at(int fd, uint64_t id);

/* 200 OK whose body is the job's log line: "<id> <length> <checksum>\n". */
int response_send_result(int fd, const struct job_result *result);

/* An error status with its reason phrase as a one-line body; adds Allow to 405 and Retry-After
 * to 503. A negative status (the client is gone) sends nothing. */
int response_send_error(int fd, int status);

/* response_send_error() for a request that could not be served: a 405 names the methods the
 * request's target takes (req->allow). */
int response_send_request_error(int fd, int status, const struct request *req);

/* From lesson 09 on: the functions above, with the Connection field the caller chooses. */
int response_send_conn(int fd, int status, const char *extra_headers, const void *body, size_t len,
                       int keep_alive);
int response_send_accepted_at_conn(int fd, uint64_t id, int keep_alive);
int response_send_error_conn(int fd, int status, int keep_alive);
int response_send_request_error_conn(int fd, int status, const struct request *req, int keep_alive);

/* "Not Found" for 404, and so on. */
const char *http_reason(int status);

#endif
