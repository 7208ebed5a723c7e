/*
 * net.h - sockets, written once: listen on loopback, accept, write fully, close properly.
 *
 * Every function here reports its own errors on stderr, naming the call that failed, and
 * returns -1; none of them exits. A failure on one connection never ends the server.
 *
 * After conn_close_lingering(fd) the number fd belongs to the kernel again: the next accept()
 * may hand the same number to another client. Do not use fd after giving it back.
 */
#ifndef HANDOFF_NET_H
#define HANDOFF_NET_H

#include <stddef.h>

/* Listens on 127.0.0.1:port (0 = any free port). Returns the socket and stores the real port in
 * *bound_port, or returns -1. */
int net_listen(int port, int *bound_port);

/* Waits for the next client. Returns its socket, or -1 if this attempt failed (the caller simply
 * tries again). With stop_fd >= 0 it also watches stop_fd, and returns NET_STOP as soon as
 * stop_fd is readable. */
int net_accept(int listen_fd, int stop_fd);
enum { NET_STOP = -2 };

/* Writes all len bytes, however many send() calls it takes. Never raises SIGPIPE. Returns 0, or
 * -1 if the client went away. */
int net_write_all(int fd, const void *buf, size_t len);

/* Waits until fd has something to read (or EOF) or the deadline passes. Returns 1 when readable,
 * 0 at the deadline, -1 on error. The deadline is a now_ms() value. */
int net_wait_readable(int fd, long long deadline_ms);

/* The same, but with stop_fd >= 0 it also watches stop_fd, and returns NET_STOP once stop_fd is
 * readable and fd is not: what fd has already received is read first. */
int net_wait_readable_or_stop(int fd, int stop_fd, long long deadline_ms);

/* From lesson 09 on: 1 if stop_fd (>= 0) is readable now - a stop has been asked for - else 0.
 * Never waits: a connection asks it before it promises the client another request. */
int net_stop_requested(int stop_fd);

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC), for deadlines. */
long long now_ms(void);

/* Closes a connection without destroying the response we just wrote: stop writing, read and
 * discard what the client still sends (bounded), then close. Takes over fd. */
void conn_close_lingering(int fd);

/* The same, but with stop_fd >= 0 the lingering also ends once stop_fd is readable: at a stop,
 * no client that keeps its side open may hold the server. */
void conn_close_lingering_or_stop(int fd, int stop_fd);

/* Closes a connection without waiting on the client at all: FIN, discard what has already
 * arrived, close. For a refusal the accept loop sends, which must never wait on a client; a
 * client that sends more after that may see a reset after our answer. Takes over fd. */
void conn_close_at_once(int fd);

#endif
