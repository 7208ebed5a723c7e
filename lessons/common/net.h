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

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC), for deadlines. */
long long now_ms(void);

/* Closes a connection without destroying the response we just wrote: stop writing, read and
 * discard what the client still sends (bounded), then close. Takes over fd. */
void conn_close_lingering(int fd);

#endif
