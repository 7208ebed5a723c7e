/*
 * hclient - the kit's test client. It does what curl cannot do reliably: send a whole request
 * (and more) before reading, notice a TCP reset every time, pause between the head and the body,
 * and send many requests with random bodies from one process.
 *
 *   hclient jobs PORT COUNT SEED [--expect STATUS] [--max-size N]
 *       Sends COUNT jobs one after another, with random bodies made from SEED. Prints one line
 *       per job, "<length> <checksum>", as the job log should show it.
 *   hclient post PORT [--size N] [--seed S] [--extra N] [--continue] [--hold FIFO]
 *                     [--hold-after N] [--linger-open FIFO] [--expect STATUS]
 *                     [--response FILE] [--content-length N]
 *       Sends one job. --extra N sends N more bytes after the body, all before reading.
 *       --content-length N announces N bytes instead of --size (for a refused body: 413).
 *       --continue sends "Expect: 100-continue" and waits for "100 Continue", prints
 *       "continue". --hold FIFO then prints "held" and reads one byte from FIFO before it
 *       sends the body; --hold-after N sends the body's first N bytes before that pause.
 *       --linger-open FIFO keeps the connection open after a good answer: prints "answered",
 *       reads one byte from FIFO, then sends one byte and closes its side; a reset in reply
 *       (the server had closed the connection already) is exit status 4.
 *       Prints "<length> <checksum>" of the body.
 *   hclient load PORT COUNT SEED --parallel K [--max-size N]
 *       Sends COUNT jobs over K connections at a time. Each must be answered 202, or 503 with
 *       Retry-After. Prints "<length> <checksum>" for each job answered 202, and on stderr how
 *       many were accepted and refused.
 *   hclient hold PORT N [--trickle MS] [--events FILE] [--label L] [--timeout-ms MS]
 *       Opens N connections and keeps them: idle, or with --trickle each sends the start of a
 *       job request one byte every MS milliseconds and never finishes it. Once all N are
 *       connected, prints "holding N". Each time the server answers or closes one, appends
 *       "L INDEX STATUS" to FILE (stdout without --events) in one write(2): STATUS is the
 *       answer's status code, EOF (closed without an answer) or RESET. Exits 0 once every
 *       connection has ended, 3 if some are still open after --timeout-ms (default 60000).
 *   hclient latency PORT COUNT [--size N]
 *       Sends COUNT jobs one after another, each on a new connection; each must be answered
 *       202, or 503 with Retry-After. Prints "p50 X p99 Y max Z ms (COUNT jobs, R refused)".
 *   hclient fnv1a
 *       Prints the FNV-1a checksum of standard input.
 *   hclient pending < FIFO
 *       Prints how many bytes wait unread in the pipe or FIFO on standard input (the gate).
 *
 * jobs, post, load and latency take --timeout-ms MS, the longest wait for a response (default
 * 10000).
 *
 * Exit status: 0 when every response had the expected status and complete framing; 3 when no
 * complete response came within --timeout-ms; 4 when the server reset the connection before the
 * whole response arrived (or, with --linger-open, after it); 1, with a message in plain words
 * and the command that sends the same request again, for any other failure; 2 for bad usage.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "net.h"

/* A test client never waits forever: a response must arrive within --timeout-ms (default 10 s). */
enum { RESPONSE_TIMEOUT_MS = 10000, RESPONSE_MAX = 64 * 1024 };

struct post {
	int port;
	size_t size;
	uint64_t seed;
	size_t extra;
	int expect_continue;
	const char *hold;
	size_t hold_after;       /* body bytes sent before the pause on hold */
	const char *linger_open; /* FIFO: the go-ahead for one late byte after the answer */
	int expect;
	const char *response_path;
	long content_length; /* what the head announces; -1: size */
	const char *what;    /* "request 3 of 20", for messages */
	int timeout_ms;
	int may_refuse; /* 503 with Retry-After is an acceptable answer too */
	int refused;    /* set when the answer was 503 */
	int quiet;      /* prints no "<length> <checksum>" line (latency) */
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: hclient jobs PORT COUNT SEED [--expect STATUS] [--max-size N]\n"
	        "       hclient post PORT [--size N] [--seed S] [--extra N] [--continue]\n"
	        "                         [--hold FIFO] [--hold-after N] [--linger-open FIFO]\n"
	        "                         [--expect STATUS] [--response FILE]\n"
	        "                         [--timeout-ms MS] [--content-length N]\n"
	        "       hclient load PORT COUNT SEED --parallel K [--max-size N]\n"
	        "                                 [--timeout-ms MS]\n"
	        "       hclient hold PORT N [--trickle MS] [--events FILE] [--label L]\n"
	        "                           [--timeout-ms MS]\n"
	        "       hclient latency PORT COUNT [--size N] [--timeout-ms MS]\n"
	        "       hclient fnv1a < FILE\n"
	        "       hclient pending < FIFO\n");
	exit(2);
}

/* xorshift64*: small, fast, and the same bytes for the same seed on every machine. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

static unsigned char *make_body(uint64_t seed, size_t size)
{
	uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 1;
	unsigned char *body = malloc(size > 0 ? size : 1);

	if (body == NULL) {
		perror("malloc");
		exit(1);
	}
	for (size_t i = 0; i < size; i++)
		body[i] = (unsigned char)(next_random(&state) >> 56);
	return body;
}

static int connect_loopback(int port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&addr, sizeof addr) == -1) {
		fprintf(stderr, "could not connect to 127.0.0.1:%d: %s (is the server running?)\n",
		        port, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Reads until EOF, the deadline, or a full buffer. Returns bytes read, or -1 (errno set). */
static long read_response(int fd, char *buf, size_t cap, long long deadline)
{
	size_t got = 0;

	while (got < cap) {
		int ready = net_wait_readable(fd, deadline);
		if (ready != 1) {
			errno = ready == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		ssize_t n = recv(fd, buf + got, cap - got, 0);
		if (n == 0)
			break;
		if (n == -1 && errno != EINTR)
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	buf[got < cap ? got : cap - 1] = '\0';
	return (long)got;
}

/* Checks status line and framing. Returns NULL if fine, else what is wrong, in words. */
static const char *check_response(const char *resp, size_t len, struct post *p, char *why, size_t n)
{
	int expect = p->expect;
	int status;
	const char *end = strstr(resp, "\r\n\r\n");
	const char *cl = strcasestr(resp, "\r\nContent-Length:");

	if (len == 0)
		return "the server closed the connection without sending any response";
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return "the response does not start with an HTTP/1.1 status line";
	if (p->may_refuse && status == 503) {
		if (strcasestr(resp, "\r\nRetry-After:") == NULL)
			return "a 503 must say when to come back (Retry-After)";
		p->refused = 1;
		expect = 503;
	}
	if (status != expect) {
		snprintf(why, n, "expected status %d, got %d", expect, status);
		return why;
	}
	if (end == NULL)
		return "the response head never ended (no blank line)";
	if (cl == NULL || cl > end)
		return "the response has no Content-Length, so the client cannot tell where it "
		       "ends";
	if (strcasestr(resp, "\r\nConnection: close\r\n") == NULL)
		return "the response does not say Connection: close";
	size_t body_len = len - (size_t)(end + 4 - resp);
	if ((size_t)strtoul(cl + 17, NULL, 10) != body_len) {
		snprintf(why, n, "Content-Length says %lu but %zu body bytes arrived",
		         strtoul(cl + 17, NULL, 10), body_len);
		return why;
	}
	return NULL;
}

/* Waits for "HTTP/1.1 100 Continue\r\n\r\n" and nothing more. */
static void await_continue(int fd, const struct post *p)
{
	static const char want[] = "HTTP/1.1 100 Continue\r\n\r\n";
	char buf[sizeof want];
	size_t got = 0;
	long long deadline = now_ms() + p->timeout_ms;

	while (got < sizeof want - 1) {
		ssize_t n = net_wait_readable(fd, deadline) == 1
		                    ? recv(fd, buf + got, sizeof want - 1 - got, 0)
		                    : -1;
		if (n <= 0) {
			fprintf(stderr,
			        "%s: waited for \"100 Continue\" after sending the head, got %s\n",
			        p->what, n == 0 ? "EOF" : "nothing");
			exit(1);
		}
		got += (size_t)n;
	}
	if (memcmp(buf, want, sizeof want - 1) != 0) {
		fprintf(stderr, "%s: expected \"100 Continue\", got \"%.*s\"\n", p->what, (int)got,
		        buf);
		exit(1);
	}
	printf("continue\n");
	fflush(stdout);
}

/* Prints "word" on a line of its own at once: the test waits for it. */
static void announce(const char *word)
{
	printf("%s\n", word);
	fflush(stdout);
}

/* Waits, at most --timeout-ms, for one byte from the FIFO at fifo: the test's go-ahead. */
static void wait_for_go_ahead(const char *fifo, const struct post *p)
{
	char byte;
	/* O_NONBLOCK: opening a FIFO to read would otherwise wait, unbounded, for a writer. */
	int fd = open(fifo, O_RDONLY | O_NONBLOCK);
	long long deadline = now_ms() + p->timeout_ms;

	if (fd == -1) {
		fprintf(stderr, "hold %s: %s\n", fifo, strerror(errno));
		exit(1);
	}
	if (net_wait_readable(fd, deadline) != 1 || read(fd, &byte, 1) != 1) {
		fprintf(stderr, "%s: no go-ahead on %s within %d ms\n", p->what, fifo,
		        p->timeout_ms);
		exit(1);
	}
	close(fd);
}

/* Waits, at most --timeout-ms, until the kernel has closed fd's connection: our FIN was
 * acknowledged, or a reset came. Returns 0 for a clean close, 4 for a reset, 3 if neither
 * came in time. There is no event that says so, since poll() reports POLLHUP as soon as both
 * sides have sent FIN; the connection's state (TCP_INFO) does, so this looks every millisecond. */
static int await_close(int fd, const struct post *p)
{
	long long deadline = now_ms() + p->timeout_ms;
	struct tcp_info info;
	socklen_t len = sizeof info;
	int err = 0;

	while (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
	       info.tcpi_state != TCP_CLOSE) {
		if (now_ms() >= deadline) {
			fprintf(stderr, "%s: the connection was not closed within %d ms\n", p->what,
			        p->timeout_ms);
			return 3;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		len = sizeof info;
	}
	len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	return err == 0 ? 0 : 4;
}

/* --linger-open: after its answer, the client keeps the connection open until the test says
 * go, then sends one byte and closes its side. A server that still lingers on the connection
 * (conn_close_lingering()) reads and discards the byte; one that has already closed it answers
 * with a reset. Returns 0, 3 or 4, as post_one(). */
static int send_late_byte(int fd, const struct post *p)
{
	int status = 0;

	announce("answered");
	wait_for_go_ahead(p->linger_open, p);
	if (send(fd, "x", 1, MSG_NOSIGNAL) != 1 || shutdown(fd, SHUT_WR) == -1)
		status = errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN ? 4 : 1;
	if (status == 0)
		status = await_close(fd, p);
	if (status == 4)
		fprintf(stderr,
		        "%s: one byte sent after the answer was answered with a reset: the server "
		        "had already closed the connection, instead of reading until the client "
		        "closes\n",
		        p->what);
	else if (status == 1)
		fprintf(stderr, "%s: one byte after the answer: %s\n", p->what, strerror(errno));
	return status;
}

/* How to see it by hand: this client's own command line, which sends the very same bytes again
 * (the body comes from the seed), to a server started on PORT. */
static void print_reproduce(const struct post *p)
{
	fprintf(stderr, "  reproduce: build/tests/hclient post PORT --size %zu --seed %" PRIu64,
	        p->size, p->seed);
	if (p->content_length >= 0)
		fprintf(stderr, " --content-length %ld", p->content_length);
	if (p->extra > 0)
		fprintf(stderr, " --extra %zu", p->extra);
	fprintf(stderr, "%s --expect %d\n", p->expect_continue ? " --continue" : "", p->expect);
}

/* Says, in words, why the response never arrived whole. */
static void explain_io_failure(const struct post *p, int err)
{
	if (err == ECONNRESET || err == EPIPE)
		fprintf(stderr,
		        "%s: the server reset the connection (ECONNRESET) before the whole "
		        "response arrived. A socket closed while request bytes are still unread "
		        "sends a reset, and the reset destroys the response\n",
		        p->what);
	else if (err == ETIMEDOUT)
		fprintf(stderr, "%s: no complete response within %d ms\n", p->what, p->timeout_ms);
	else
		fprintf(stderr, "%s: %s before the whole response arrived\n", p->what,
		        strerror(err));
}

/* Sends one job and checks the answer. Returns 0, 3 if no complete answer came in time, or 1. */
static int post_one(struct post *p)
{
	char head[256];
	char resp[RESPONSE_MAX];
	char why[128];
	unsigned char *body = make_body(p->seed, p->size);
	int fd = connect_loopback(p->port);
	int n = snprintf(
	        head, sizeof head,
	        "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %zu\r\n%s\r\n",
	        p->port, p->content_length >= 0 ? (size_t)p->content_length : p->size,
	        p->expect_continue ? "Expect: 100-continue\r\n" : "");
	int failed = 1;
	int timed_out = 0, reset = 0;
	const char *wrong = NULL;

	if (!p->may_refuse && !p->quiet) {
		printf("%zu %016" PRIx64 "\n", p->size, fnv1a64(body, p->size));
		fflush(stdout);
	}
	if (net_write_all(fd, head, (size_t)n) == -1)
		goto sent;
	if (p->expect_continue)
		await_continue(fd, p);
	size_t early = p->hold_after < p->size ? p->hold_after : p->size;
	if (p->hold != NULL) {
		if (net_write_all(fd, body, early) == -1)
			goto sent;
		announce("held");
		wait_for_go_ahead(p->hold, p);
	} else {
		early = 0;
	}
	if (net_write_all(fd, body + early, p->size - early) == -1)
		goto sent;
	for (size_t left = p->extra; left > 0;) {
		static const char junk[4096] = {'x'};
		size_t chunk = left < sizeof junk ? left : sizeof junk;
		if (net_write_all(fd, junk, chunk) == -1)
			goto sent;
		left -= chunk;
	}
	long got = read_response(fd, resp, sizeof resp, now_ms() + p->timeout_ms);
	if (got == -1)
		goto sent;
	if ((wrong = check_response(resp, (size_t)got, p, why, sizeof why)) == NULL)
		failed = 0;
sent:
	if (failed && wrong == NULL) {
		timed_out = errno == ETIMEDOUT;
		reset = errno == ECONNRESET || errno == EPIPE;
		explain_io_failure(p, errno);
	} else if (failed)
		fprintf(stderr, "%s (%zu-byte body%s): %s\n", p->what, p->size,
		        p->extra ? " plus extra bytes" : "", wrong);
	if (failed) {
		if (wrong != NULL && *resp != '\0')
			fprintf(stderr, "  the response was:\n%.400s\n", resp);
		print_reproduce(p);
	} else if (p->may_refuse && !p->refused && !p->quiet) {
		flockfile(stdout);
		printf("%zu %016" PRIx64 "\n", p->size, fnv1a64(body, p->size));
		fflush(stdout);
		funlockfile(stdout);
	} else if (p->response_path != NULL) {
		FILE *f = fopen(p->response_path, "w");
		if (f != NULL) {
			fputs(resp, f);
			fclose(f);
		}
	}
	int status = timed_out ? 3 : reset ? 4 : failed;
	if (status == 0 && p->linger_open != NULL)
		status = send_late_byte(fd, p);
	close(fd);
	free(body);
	return status;
}

static unsigned long number(const char *text)
{
	char *end;
	unsigned long value = strtoul(text, &end, 10);

	if (*text == '\0' || *end != '\0')
		usage();
	return value;
}

/* Reads the shared options of post and jobs into *p. */
static void parse_post_options(int argc, char **argv, int first, struct post *p, size_t *max)
{
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "--continue") == 0) {
			p->expect_continue = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (strcmp(argv[i - 1], "--size") == 0)
			p->size = number(v);
		else if (strcmp(argv[i - 1], "--seed") == 0)
			p->seed = number(v);
		else if (strcmp(argv[i - 1], "--extra") == 0)
			p->extra = number(v);
		else if (strcmp(argv[i - 1], "--hold") == 0)
			p->hold = v;
		else if (strcmp(argv[i - 1], "--hold-after") == 0)
			p->hold_after = number(v);
		else if (strcmp(argv[i - 1], "--linger-open") == 0)
			p->linger_open = v;
		else if (strcmp(argv[i - 1], "--expect") == 0)
			p->expect = (int)number(v);
		else if (strcmp(argv[i - 1], "--timeout-ms") == 0)
			p->timeout_ms = (int)number(v);
		else if (strcmp(argv[i - 1], "--response") == 0)
			p->response_path = v;
		else if (strcmp(argv[i - 1], "--content-length") == 0)
			p->content_length = (long)number(v);
		else if (strcmp(argv[i - 1], "--max-size") == 0 && max != NULL)
			*max = number(v);
		else
			usage();
	}
}

static int run_jobs(int argc, char **argv)
{
	struct post p = {.expect = 202, .timeout_ms = RESPONSE_TIMEOUT_MS, .content_length = -1};
	size_t max_size = 4096;
	char what[64];

	if (argc < 5)
		usage();
	p.port = (int)number(argv[2]);
	unsigned long count = number(argv[3]);
	uint64_t seed = number(argv[4]);
	parse_post_options(argc, argv, 5, &p, &max_size);
	uint64_t sizes = seed;
	for (unsigned long i = 0; i < count; i++) {
		p.size = 1 + (size_t)(next_random(&sizes) % max_size);
		p.seed = seed + i;
		p.what = what;
		snprintf(what, sizeof what, "request %lu of %lu", i + 1, count);
		int status = post_one(&p);
		if (status != 0)
			return status;
	}
	return 0;
}

/* The shared plan of a load run; each thread takes the next request number. */
struct load {
	struct post base;
	unsigned long count;
	uint64_t seed;
	size_t max_size;
	pthread_mutex_t lock;
	unsigned long next;
	unsigned long accepted, refused, failed;
};

static void *load_thread(void *arg)
{
	struct load *l = arg;
	char what[64];

	for (;;) {
		pthread_mutex_lock(&l->lock);
		unsigned long i = l->next++;
		pthread_mutex_unlock(&l->lock);
		if (i >= l->count)
			return NULL;
		struct post p = l->base;
		uint64_t sizes = l->seed + i;
		p.size = 1 + (size_t)(next_random(&sizes) % l->max_size);
		p.seed = l->seed + i;
		p.what = what;
		snprintf(what, sizeof what, "request %lu of %lu", i + 1, l->count);
		int failed = post_one(&p) != 0;
		pthread_mutex_lock(&l->lock);
		l->failed += (unsigned long)failed;
		l->refused += (unsigned long)(!failed && p.refused);
		l->accepted += (unsigned long)(!failed && !p.refused);
		pthread_mutex_unlock(&l->lock);
	}
}

static int run_load(int argc, char **argv)
{
	struct load l = {.base = {.expect = 202,
	                          .timeout_ms = RESPONSE_TIMEOUT_MS,
	                          .may_refuse = 1,
	                          .content_length = -1},
	                 .max_size = 4096,
	                 .lock = PTHREAD_MUTEX_INITIALIZER};
	pthread_t threads[64];
	unsigned long parallel = 1;

	if (argc < 5)
		usage();
	l.base.port = (int)number(argv[2]);
	l.count = number(argv[3]);
	l.seed = number(argv[4]);
	for (int i = 5; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--parallel") == 0)
			parallel = number(argv[i + 1]);
		else if (strcmp(argv[i], "--max-size") == 0)
			l.max_size = number(argv[i + 1]);
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			l.base.timeout_ms = (int)number(argv[i + 1]);
		else
			usage();
	}
	if (parallel < 1 || parallel > 64)
		usage();
	unsigned long started = 0;
	int create_failed = 0;
	for (; started < parallel; started++) {
		int err = pthread_create(&threads[started], NULL, load_thread, &l);
		if (err != 0) {
			fprintf(stderr, "hclient: pthread_create: %s\n", strerror(err));
			create_failed = 1; /* The threads already started still share the jobs. */
			break;
		}
	}
	for (unsigned long t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	l.failed += (unsigned long)create_failed; /* Only now: the threads are done with l. */
	fprintf(stderr, "%lu accepted (202), %lu refused (503), %lu failed\n", l.accepted,
	        l.refused, l.failed);
	return l.failed > 0;
}

/* hclient latency: COUNT jobs one after another, each timed from connect to the server's close,
 * as a client sees it. Percentiles by nearest rank. */
static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int compare_times(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static double percentile_ms(const long long *sorted, unsigned long count, unsigned percent)
{
	unsigned long rank = (count * percent + 99) / 100;

	return (double)sorted[rank > 0 ? rank - 1 : 0] / 1000.0;
}

static int run_latency(int argc, char **argv)
{
	struct post p = {.size = 100,
	                 .expect = 202,
	                 .what = "the request",
	                 .timeout_ms = RESPONSE_TIMEOUT_MS,
	                 .content_length = -1,
	                 .may_refuse = 1,
	                 .quiet = 1};
	unsigned long refused = 0;

	p.port = (int)number(argv[2]);
	unsigned long count = number(argv[3]);
	parse_post_options(argc, argv, 4, &p, NULL);
	if (count == 0)
		usage();
	long long *times = malloc(count * sizeof *times);
	if (times == NULL) {
		perror("malloc");
		return 1;
	}
	for (unsigned long i = 0; i < count; i++) {
		long long start = now_us();
		p.seed = i + 1;
		p.refused = 0;
		int status = post_one(&p);
		if (status != 0) {
			free(times);
			return status;
		}
		times[i] = now_us() - start;
		refused += (unsigned long)p.refused;
	}
	qsort(times, count, sizeof *times, compare_times);
	printf("p50 %.3f p99 %.3f max %.3f ms (%lu jobs, %lu refused)\n",
	       percentile_ms(times, count, 50), percentile_ms(times, count, 99),
	       (double)times[count - 1] / 1000.0, count, refused);
	free(times);
	return 0;
}

/*
 * hclient hold: connections that take a server's time and give it nothing to do - idle, or
 * trickling a request that never ends - and a record of how each one ended, for tests that
 * order those endings against other clients' answers.
 */

/* A held connection must not outlive its test (--timeout-ms, default 60 s). */
enum { HOLD_TIMEOUT_MS = 60000 };

/* What a trickling connection sends, a byte at a time: the start of a valid job request, then a
 * header that never ends. The server sees a slow client, never a bad request. */
static const char TRICKLE_HEAD[] = "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Content-Length: 100\r\nX-Trickle: ";

struct held {
	int fd;            /* -1 once the connection has ended */
	size_t trickled;   /* bytes sent so far */
	char answer[32];   /* the start of the answer: enough for its status line */
	size_t answer_len; /* bytes of answer[] filled */
};

struct hold {
	int port;
	unsigned long count;
	int trickle_ms; /* 0: idle */
	int events_fd;  /* where "L INDEX STATUS" lines go */
	const char *label;
	int timeout_ms;
	struct held *conns;
	unsigned long open; /* connections not yet ended */
};

/* Sends a trickling connection's next byte. A failed send means the server has closed or reset
 * the connection: its answer may still wait to be read, so poll() decides how it ended. */
static void trickle_one(struct held *c)
{
	size_t i = c->trickled;
	char byte = i < sizeof TRICKLE_HEAD - 1 ? TRICKLE_HEAD[i] : 'a';

	if (send(c->fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
		c->trickled++;
}

/* Records how connection i ended, in one write(2) on an O_APPEND descriptor: lines from several
 * clients in one file never mix. */
static void hold_ended(struct hold *h, unsigned long i, const char *how)
{
	char line[128];
	int n = snprintf(line, sizeof line, "%s %lu %s\n", h->label, i + 1, how);

	if (write(h->events_fd, line, (size_t)n) != n)
		perror("hclient hold: write event");
	close(h->conns[i].fd);
	h->conns[i].fd = -1;
	h->open--;
}

/* Reads what connection i has received. At EOF or a reset it has ended: with the answer's status
 * if one came (a reset after the answer leaves it readable first), else EOF or RESET. */
static void hold_read(struct hold *h, unsigned long i)
{
	struct held *c = &h->conns[i];
	char discard[4096], status[16] = "GARBLED";
	size_t room = sizeof c->answer - 1 - c->answer_len;
	ssize_t n = room > 0 ? recv(c->fd, c->answer + c->answer_len, room, MSG_DONTWAIT)
	                     : recv(c->fd, discard, sizeof discard, MSG_DONTWAIT);
	int code;

	if (n > 0) {
		if (room > 0)
			c->answer_len += (size_t)n;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	c->answer[c->answer_len] = '\0';
	if (c->answer_len == 0) {
		hold_ended(h, i, n == 0 ? "EOF" : "RESET");
		return;
	}
	if (sscanf(c->answer, "HTTP/1.%*d %3d", &code) == 1)
		snprintf(status, sizeof status, "%d", code);
	hold_ended(h, i, status);
}

/* Connects all of them - a trickling one sends its first byte at once - and says so. */
static void hold_connect(struct hold *h)
{
	h->conns = calloc(h->count, sizeof *h->conns);
	if (h->conns == NULL) {
		perror("calloc");
		exit(1);
	}
	for (unsigned long i = 0; i < h->count; i++) {
		h->conns[i].fd = connect_loopback(h->port);
		if (h->trickle_ms > 0)
			trickle_one(&h->conns[i]);
	}
	h->open = h->count;
	printf("holding %lu\n", h->count);
	fflush(stdout);
}

/* Waits for the connections to end, trickling meanwhile. Returns 0 once all have ended, 3 if
 * some are still open at the deadline. */
static int hold_wait(struct hold *h)
{
	struct pollfd *pfd = calloc(h->count, sizeof *pfd);
	long long deadline = now_ms() + h->timeout_ms;
	long long next_trickle = now_ms() + h->trickle_ms;

	if (pfd == NULL) {
		perror("calloc");
		exit(1);
	}
	while (h->open > 0 && now_ms() < deadline) {
		long long wake =
		        h->trickle_ms > 0 && next_trickle < deadline ? next_trickle : deadline;
		long long wait = wake - now_ms();
		for (unsigned long i = 0; i < h->count; i++)
			pfd[i] = (struct pollfd){.fd = h->conns[i].fd, .events = POLLIN};
		if (poll(pfd, h->count, wait > 0 ? (int)wait : 0) == -1 && errno != EINTR) {
			perror("hclient hold: poll");
			exit(1);
		}
		/* What arrived first: a connection that has its answer sends no more. */
		for (unsigned long i = 0; i < h->count; i++)
			if (h->conns[i].fd != -1 && pfd[i].revents != 0)
				hold_read(h, i);
		if (h->trickle_ms > 0 && now_ms() >= next_trickle) {
			for (unsigned long i = 0; i < h->count; i++)
				if (h->conns[i].fd != -1 && h->conns[i].answer_len == 0)
					trickle_one(&h->conns[i]);
			next_trickle += h->trickle_ms;
		}
	}
	free(pfd);
	if (h->open == 0)
		return 0;
	fprintf(stderr, "hclient hold: %lu of %lu connections still open after %d ms\n", h->open,
	        h->count, h->timeout_ms);
	return 3;
}

static int run_hold(int argc, char **argv)
{
	struct hold h = {.events_fd = 1, .label = "hold", .timeout_ms = HOLD_TIMEOUT_MS};
	const char *events = NULL;

	h.port = (int)number(argv[2]);
	h.count = number(argv[3]);
	for (int i = 4; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--trickle") == 0)
			h.trickle_ms = (int)number(argv[i + 1]);
		else if (strcmp(argv[i], "--label") == 0)
			h.label = argv[i + 1];
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			h.timeout_ms = (int)number(argv[i + 1]);
		else if (strcmp(argv[i], "--events") == 0)
			events = argv[i + 1];
		else
			usage();
	}
	if (h.count == 0)
		usage();
	/* O_APPEND: each line lands whole at the end, whoever else appends to the file. */
	if (events != NULL &&
	    (h.events_fd = open(events, O_WRONLY | O_APPEND | O_CREAT, 0644)) == -1) {
		fprintf(stderr, "hclient hold: %s: %s\n", events, strerror(errno));
		return 1;
	}
	hold_connect(&h);
	int status = hold_wait(&h);
	for (unsigned long i = 0; i < h.count; i++)
		if (h.conns[i].fd != -1)
			close(h.conns[i].fd);
	free(h.conns);
	return status;
}

static int run_fnv1a(void)
{
	unsigned char buf[65536];
	uint64_t hash = 0xcbf29ce484222325u;
	size_t n;

	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		for (size_t i = 0; i < n; i++) {
			hash ^= buf[i];
			hash *= 0x100000001b3u;
		}
	}
	printf("%016" PRIx64 "\n", hash);
	return 0;
}

/* The gate's bytes that no job has taken yet: a test lets N jobs through with N bytes, so once
 * they have run, none may be left. */
static int run_pending(void)
{
	int waiting;

	if (ioctl(0, FIONREAD, &waiting) == -1) {
		perror("hclient pending: ioctl FIONREAD on standard input");
		return 1;
	}
	printf("%d\n", waiting);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "fnv1a") == 0)
		return run_fnv1a();
	if (argc >= 2 && strcmp(argv[1], "pending") == 0)
		return run_pending();
	if (argc >= 5 && strcmp(argv[1], "jobs") == 0)
		return run_jobs(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "load") == 0)
		return run_load(argc, argv);
	if (argc >= 4 && strcmp(argv[1], "hold") == 0)
		return run_hold(argc, argv);
	if (argc >= 4 && strcmp(argv[1], "latency") == 0)
		return run_latency(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "post") == 0) {
		struct post p = {.size = 100,
		                 .seed = 1,
		                 .expect = 202,
		                 .what = "the request",
		                 .timeout_ms = RESPONSE_TIMEOUT_MS,
		                 .content_length = -1};
		p.port = (int)number(argv[2]);
		parse_post_options(argc, argv, 3, &p, NULL);
		return post_one(&p);
	}
	usage();
}
