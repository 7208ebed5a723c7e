/*
 * net.c - sockets, written once. See net.h for the contract.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/*
 * How long and how much a lingering close reads before it gives up on the client. A client that
 * reads our answer closes within a round trip; one that is still sending after 2 seconds or 4 MiB
 * (more than any request we accept, so a refused 1 MiB body fits) is ignoring the answer, and we
 * will not let it hold the connection.
 */
enum { LINGER_MAX_MS = 2000, LINGER_MAX_BYTES = 4 * 1024 * 1024 };

/* How many finished connections may wait for accept(). 128 is the Linux default for somaxconn. */
enum { LISTEN_BACKLOG = 128 };

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_listen(int port, int *bound_port)
{
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof addr;
	int one = 1;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		fprintf(stderr, "socket: %s\n", strerror(errno));
		return -1;
	}
	/* Lets a restarted server bind at once, while old connections sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1) {
		fprintf(stderr, "setsockopt SO_REUSEADDR: %s\n", strerror(errno));
		goto fail;
	}
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr =
	        htonl(INADDR_LOOPBACK); /* The kit never listens beyond this machine. */
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == -1) {
		fprintf(stderr, "bind 127.0.0.1:%d: %s\n", port, strerror(errno));
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		fprintf(stderr, "listen: %s\n", strerror(errno));
		goto fail;
	}
	/* With port 0 the kernel chose the port: ask which, so we can announce it. */
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == -1) {
		fprintf(stderr, "getsockname: %s\n", strerror(errno));
		goto fail;
	}
	*bound_port = ntohs(addr.sin_port);
	return fd;
fail:
	close(fd);
	return -1;
}

int net_accept(int listen_fd, int stop_fd)
{
	struct pollfd pfd[2] = {{.fd = listen_fd, .events = POLLIN},
	                        {.fd = stop_fd, .events = POLLIN}};
	int fd;

	/* With a stop_fd, wait for a client or a stop, whichever comes first. */
	while (stop_fd >= 0 && poll(pfd, 2, -1) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "poll: %s\n", strerror(errno));
			return -1;
		}
	}
	if (stop_fd >= 0 && pfd[1].revents != 0)
		return NET_STOP;

	/* EINTR: a signal arrived. ECONNABORTED: the client gave up while waiting in the queue. */
	while ((fd = accept(listen_fd, NULL, NULL)) == -1) {
		if (errno != EINTR && errno != ECONNABORTED) {
			fprintf(stderr, "accept: %s\n", strerror(errno));
			/* Out of descriptors or memory: the caller would retry at once and fail again.
			 * Pause 100 ms so that finishing connections can free some. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
			return -1;
		}
	}
	return fd;
}

int net_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		/* MSG_NOSIGNAL: a vanished client gives us EPIPE, not a SIGPIPE that kills us. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* EPIPE, ECONNRESET: the client left, which is its right; say nothing. */
			if (errno != EPIPE && errno != ECONNRESET)
				fprintf(stderr, "send: %s\n", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int net_wait_readable(int fd, long long deadline_ms)
{
	return net_wait_readable_or_stop(fd, -1, deadline_ms);
}

int net_wait_readable_or_stop(int fd, int stop_fd, long long deadline_ms)
{
	/* poll() skips an entry whose fd is negative: without a stop_fd, it watches fd alone. */
	struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};

	for (;;) {
		long long left = deadline_ms - now_ms();
		if (left <= 0)
			return 0;
		int n = poll(pfd, 2, (int)left);
		if (n > 0)
			return pfd[0].revents != 0 ? 1 : NET_STOP;
		if (n == 0)
			return 0;
		if (errno != EINTR) {
			fprintf(stderr, "poll: %s\n", strerror(errno));
			return -1;
		}
	}
}

int net_stop_requested(int stop_fd)
{
	struct pollfd pfd = {.fd = stop_fd, .events = POLLIN};

	/* A timeout of 0 only looks. A failed poll() says nothing about a stop: go on serving. */
	return stop_fd >= 0 && poll(&pfd, 1, 0) == 1;
}

/*
 * Why not just close(fd)? If the client sent bytes we never read (more than Content-Length, a
 * body we refused, a second request), close() makes the kernel answer them with a TCP reset, and
 * a reset tells the client's kernel to throw away whatever it has not yet handed to the client,
 * our response included. So, like Apache's lingering_close(): first send FIN (shutdown SHUT_WR),
 * which tells the client the response is complete; then read and discard until the client closes
 * its side (EOF) or the bounds run out; only then close().
 */
void conn_close_lingering(int fd)
{
	conn_close_lingering_or_stop(fd, -1);
}

/* Reads and discards what fd has already received, without waiting for more. */
static void discard_received(int fd)
{
	char discard[4096];

	while (recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0)
		;
}

void conn_close_lingering_or_stop(int fd, int stop_fd)
{
	char discard[4096];
	long long deadline = now_ms() + LINGER_MAX_MS;
	size_t drained = 0;
	int ready;

	if (shutdown(fd, SHUT_WR) == -1) {
		/* ENOTCONN: the client already reset the connection; nothing is left to protect. */
		if (errno != ENOTCONN)
			fprintf(stderr, "shutdown: %s\n", strerror(errno));
		goto done;
	}
	while (drained < LINGER_MAX_BYTES &&
	       (ready = net_wait_readable_or_stop(fd, stop_fd, deadline)) == 1) {
		ssize_t n = recv(fd, discard, sizeof discard, 0);
		if (n == 0)
			break; /* EOF: the client has everything and has closed. */
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break; /* ECONNRESET and the like: the client is gone. */
		}
		drained += (size_t)n;
	}
	if (ready == NET_STOP)
		discard_received(fd);
done:
	if (close(fd) == -1)
		fprintf(stderr, "close: %s\n", strerror(errno));
}

void conn_close_at_once(int fd)
{
	/* FIN first, so the client knows our answer is whole; then what the client has sent so
	 * far, without waiting for more (MSG_DONTWAIT), since unread bytes would turn our close
	 * into a reset. */
	if (shutdown(fd, SHUT_WR) == 0)
		discard_received(fd);
	if (close(fd) == -1)
		fprintf(stderr, "close: %s\n", strerror(errno));
}
