/*
 * request.h - reading one HTTP/1.1 request, robustly, into a buffer the caller owns.
 *
 * The reader loops over short reads and EINTR, gives up at a deadline (408), refuses a head
 * larger than REQUEST_HEAD_MAX (431) and a body larger than REQUEST_BODY_MAX (413), and notices
 * a client that closes early.
 *
 * It is strict, as RFC 9112 asks of a server: every line ends with CRLF, a field line is
 * "name: value" with nothing between the name and the colon and no folding, and an HTTP/1.1
 * request has exactly one Host field. Anything else gets 400 (an Expect it does not know, 417)
 * as soon as the bytes that show it have arrived, never after waiting for the deadline: two
 * programs that read the same bytes in two different ways are how requests get smuggled past a
 * proxy.
 *
 * From lesson 08 on, a connection thread also gives the reader the stop signal (req->stop_fd): once
 * it is readable, the reader stops waiting for the client - a client that has sent nothing is
 * let go without an answer, one half-way through its request gets 503.
 *
 * From lesson 09 on, one connection carries many requests (keep-alive), and a client may send
 * the next one before it has the answer to this one (pipelining): the bytes that arrived past
 * this request's end are the next request's. request_next(req) forgets this request, as
 * request_clear() does, and keeps those bytes at the start of req->head, where the next
 * request_read_*() begins. request_keep_alive(req) says whether the connection may go on at all:
 * only if the client wants it and the reader knows where this request ended.
 *
 * A struct request is reused: the next request_read_*() overwrites it. Once you call
 * request_clear(req), nothing may read req->body again - copy what must outlive the request
 * before that. request_next(req) clears it as well. (Under valgrind, request_clear makes the
 * body unreadable, so memcheck reports any late reader, just as it would report a read of freed
 * memory.)
 */
#ifndef HANDOFF_REQUEST_H
#define HANDOFF_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/* 8 KiB, like Apache's and nginx's default header limits: ample for any real client. */
#define REQUEST_HEAD_MAX 8192
/* A job's input is small; a bigger body is a mistake or an attack, so we refuse it (413). */
#define REQUEST_BODY_MAX (1024 * 1024)

struct request {
	char head[REQUEST_HEAD_MAX + 1]; /* request line and header fields, NUL-terminated */
	size_t head_len;                 /* bytes of head, up to and including the blank line */
	size_t head_filled;              /* bytes read into head, perhaps past head_len */
	size_t head_scanned;             /* bytes of head checked so far (line ends, NUL) */
	char method[16];                 /* "POST", NUL-terminated */
	char target[256];                /* "/jobs", NUL-terminated; the path of an absolute-form */
	int minor_version;               /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
	size_t content_length;           /* from the Content-Length field */
	int expect_continue;             /* an HTTP/1.1 client sent "Expect: 100-continue" */
	const char *allow;               /* after a 405: the methods the target does take */
	unsigned char *body;             /* body_len bytes of body, in a buffer of body_cap */
	size_t body_len;
	size_t body_cap;
	int stop_fd; /* -1 (request_init's choice), or a descriptor that becomes readable at a stop */
	int keep_alive;     /* the client asked to keep the connection (Connection, version) */
	size_t request_end; /* bytes of head this request took, once read to its end; 0: unknown */
	size_t carried;     /* bytes of the next request that request_next() kept at head's start */
};

/* Prepares req for its first use, with no stop_fd. request_free(req) releases what it holds. */
void request_init(struct request *req);
void request_free(struct request *req);

/*
 * Reads the request line and header fields of the next request on fd, beginning with the bytes
 * request_next() kept, if any (then it may not need to read at all). Returns 0, -1 if the
 * client went away (or the server is stopping) before sending a request (answer nothing), or the
 * HTTP status to answer with: 400 (malformed, or no Host), 408 (deadline passed), 431 (head too
 * large), 503 (the server is stopping), 505 (an HTTP version other than 1.0 and 1.1).
 */
int request_read_head(int fd, struct request *req, long long deadline_ms);

/*
 * Reads the body announced by Content-Length, after request_read_head. Sends "100 Continue" first
 * if the client asked for it. Returns 0, -1 if the client went away, or 400, 408, 411 (no
 * Content-Length), 413 (too large), 417 (an Expect other than 100-continue), 501
 * (Transfer-Encoding, which the kit does not implement), 503 (the server is stopping).
 */
int request_read_body(int fd, struct request *req, long long deadline_ms);

/*
 * Reads one whole job request: POST /jobs with a body. Returns 0, -1 (answer nothing), or the
 * status to answer with; besides the ones above, 404 (not /jobs) and 405 (not POST).
 */
int request_read_job(int fd, struct request *req, int timeout_ms);

/*
 * From lesson 06 on: reads POST /jobs with a body, and sets *status_of to 0; or GET /jobs/ID,
 * and sets *status_of to ID (a positive decimal number; no body is read). Returns 0, -1 (answer
 * nothing), or the status to answer with, as request_read_job() does.
 */
int request_read_job_or_status(int fd, struct request *req, int timeout_ms, uint64_t *status_of);

/* The caller is done with this request: forget it. Do not read req->body after this. */
void request_clear(struct request *req);

/*
 * From lesson 09 on: whether the connection may carry another request after this one. 1 if the
 * client asked for it (HTTP/1.1 unless it sent "Connection: close"; HTTP/1.0 only with
 * "Connection: keep-alive") and the reader knows where this request ended: after a request read
 * whole, and after a 404 or 405 to one without a body. 0 after any refusal that leaves the
 * stream in doubt (400, 408, 411, 413, 417, 431, 501, 503 at a stop, 505, or a 404 or 405 to a
 * request whose body was never read): the next byte could be anywhere. Ask before request_next().
 */
int request_keep_alive(const struct request *req);

/*
 * From lesson 09 on: request_clear(), except that the bytes read past this request's end - the
 * start of a pipelined next request - are kept at the start of req->head, and the next
 * request_read_*() begins with them instead of reading from the socket. Do not read req->body
 * after this either.
 */
void request_next(struct request *req);

/*
 * From lesson 09 on, between two requests on one connection: waits, at most idle_ms, for the next
 * request to begin. Returns 1 at once if request_next() kept bytes of it, or when the socket has
 * something to read (perhaps the client's close, which the next read reports); 0 when idle_ms
 * passed first, or a stop came (req->stop_fd): then close the connection without an answer.
 */
int request_wait_next(int fd, struct request *req, int idle_ms);

#endif
