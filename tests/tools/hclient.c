/*
 * hclient - the kit's test client. It does what curl cannot do reliably: send a whole request
 * (and more) before reading, notice a TCP reset every time, pause between the head and the body,
 * and send many requests with random bodies from one process.
 *
 *   hclient jobs PORT COUNT SEED [--expect STATUS] [--max-size N]
 *       Sends COUNT jobs one after another, with random bodies made from SEED. Prints one line
 *       per job, "<length> <checksum>", as the job log should show it.
 *   hclient post PORT [--size N] [--seed S] [--extra N] [--continue] [--hold FIFO]
 *                     [--expect STATUS] [--response FILE] [--content-length N]
 *       Sends one job. --extra N sends N more bytes after the body, all before reading.
 *       --content-length N announces N bytes instead of --size (for a refused body: 413).
 *       --continue sends "Expect: 100-continue" and waits for "100 Continue", prints
 *       "continue", and with --hold reads one byte from FIFO before sending the body.
 *       Prints "<length> <checksum>" of the body.
 *   hclient load PORT COUNT SEED --parallel K [--max-size N]
 *       Sends COUNT jobs over K connections at a time. Each must be answered 202, or 503 with
 *       Retry-After. Prints "<length> <checksum>" for each job answered 202, and on stderr how
 *       many were accepted and refused.
 *   hclient fnv1a
 *       Prints the FNV-1a checksum of standard input.
 *   hclient pending < FIFO
 *       Prints how many bytes wait unread in the pipe or FIFO on standard input (the gate).
 *
 * Both take --timeout-ms MS, the longest wait for a response (default 10000).
 *
 * Exit status: 0 when every response had the expected status and complete framing; 3 when no
 * complete response came within --timeout-ms; 4 when the server reset the connection before the
 * whole response arrived; 1, with a message in plain words and the command that sends the same
 * request again, for any other failure; 2 for bad usage.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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
	int expect;
	const char *response_path;
	long content_length; /* what the head announces; -1: size */
	const char *what;    /* "request 3 of 20", for messages */
	int timeout_ms;
	int may_refuse; /* 503 with Retry-After is an acceptable answer too */
	int refused;    /* set when the answer was 503 */
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: hclient jobs PORT COUNT SEED [--expect STATUS] [--max-size N]\n"
	        "       hclient post PORT [--size N] [--seed S] [--extra N] [--continue]\n"
	        "                         [--hold FIFO] [--expect STATUS] [--response FILE]\n"
	        "                         [--timeout-ms MS] [--content-length N]\n"
	        "       hclient load PORT COUNT SEED --parallel K [--max-size N]\n"
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

/* Waits, at most --timeout-ms, for one byte from the FIFO at path: the test's go-ahead. */
static void wait_on_hold(const struct post *p)
{
	char byte;
	/* O_NONBLOCK: opening a FIFO to read would otherwise wait, unbounded, for a writer. */
	int fd = open(p->hold, O_RDONLY | O_NONBLOCK);
	long long deadline = now_ms() + p->timeout_ms;

	if (fd == -1) {
		fprintf(stderr, "hold %s: %s\n", p->hold, strerror(errno));
		exit(1);
	}
	if (net_wait_readable(fd, deadline) != 1 || read(fd, &byte, 1) != 1) {
		fprintf(stderr, "%s: no go-ahead on %s within %d ms\n", p->what, p->hold,
		        p->timeout_ms);
		exit(1);
	}
	close(fd);
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

	if (!p->may_refuse) {
		printf("%zu %016" PRIx64 "\n", p->size, fnv1a64(body, p->size));
		fflush(stdout);
	}
	if (net_write_all(fd, head, (size_t)n) == -1)
		goto sent;
	if (p->expect_continue)
		await_continue(fd, p);
	if (p->hold != NULL)
		wait_on_hold(p);
	if (net_write_all(fd, body, p->size) == -1)
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
	} else if (p->may_refuse && !p->refused) {
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
	close(fd);
	free(body);
	return timed_out ? 3 : reset ? 4 : failed;
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
