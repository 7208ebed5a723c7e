/*
 * options.c - the shared command line. See options.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char usage[] = "usage: server [--port N] [--log PATH] [--work-ms MS] [--gate PATH] "
                            "[--timeout-ms MS] [--max-clients N]";
static const char usage_pool[] = " [--workers N] [--queue N]";
static const char usage_table[] = " [--table N]";
static const char usage_journal[] = " [--journal PATH] [--commit each|group]";
static const char usage_connections[] = " [--connections N]";
static const char usage_keep_alive[] = " [--idle-ms MS] [--requests N]";

static const char help[] =
        "Options:\n"
        "  --port N         listen on 127.0.0.1:N; 0 picks a free port (default 8080)\n"
        "  --log PATH       append one line per finished job to PATH (default jobs.log)\n"
        "  --work-ms MS     how long one job works, in milliseconds (default 200)\n"
        "  --gate PATH      test hook: before reading its input, each job reads one byte\n"
        "                   from the FIFO at PATH (default: no gate)\n"
        "  --timeout-ms MS  a request must arrive within MS milliseconds, else 408\n"
        "                   (default 5000)\n"
        "  --max-clients N  test hook: after N clients, stop accepting, let the jobs finish\n"
        "                   and exit 0 (default 0: serve forever)\n";

static const char help_ready[] = "On start the server prints one line, "
                                 "\"listening on 127.0.0.1:PORT\".\n";

static const char help_pool[] =
        "  --workers N      worker threads that run the jobs (default 4)\n"
        "  --queue N        jobs that may wait for a worker; one more gets 503 (default 64)\n";

static const char help_table[] =
        "  --table N        keep the status of the newest N jobs for GET /jobs/ID\n"
        "                   (default 1024)\n";

static const char help_journal[] =
        "  --journal PATH   write each job to PATH, on disk, before its 202; run again at\n"
        "                   start what did not finish (default jobs.journal)\n"
        "  --commit MODE    each: one fsync per job, before its 202 (default); group: one\n"
        "                   fsync for all the jobs waiting for one (the lesson's stretch)\n";

static const char help_connections[] =
        "  --connections N  connections served at a time, each on its own thread; one more\n"
        "                   gets 503 at once (default 256)\n";

static const char help_keep_alive[] =
        "  --idle-ms MS     how long a connection may wait for its next request before it\n"
        "                   is closed, without an answer (default 5000)\n"
        "  --requests N     requests served on one connection; the last answer says\n"
        "                   Connection: close (default 100)\n";

/* Parses a whole decimal number in [min, max]. */
static int parse_number(const char *text, long min, long max, long *out)
{
	char *end;

	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

/* Stores one option's value. Returns 0, or -1 if the name is unknown or the value bad. */
static int set_option(struct options *opt, unsigned extras, const char *name, const char *value)
{
	long n;

	if ((extras & OPTIONS_KEEP_ALIVE) && strcmp(name, "--idle-ms") == 0 &&
	    parse_number(value, 1, 3600000, &n) == 0)
		opt->idle_ms = (int)n;
	else if ((extras & OPTIONS_KEEP_ALIVE) && strcmp(name, "--requests") == 0 &&
	         parse_number(value, 1, 1000000, &n) == 0)
		opt->requests = (int)n;
	else if ((extras & OPTIONS_CONNECTIONS) && strcmp(name, "--connections") == 0 &&
	         parse_number(value, 1, 100000, &n) == 0)
		opt->connections = (int)n;
	else if ((extras & OPTIONS_JOURNAL) && strcmp(name, "--journal") == 0 && *value != '\0')
		opt->journal = value;
	else if ((extras & OPTIONS_JOURNAL) && strcmp(name, "--commit") == 0 &&
	         (strcmp(value, "each") == 0 || strcmp(value, "group") == 0))
		opt->group_commit = strcmp(value, "group") == 0;
	else if ((extras & OPTIONS_TABLE) && strcmp(name, "--table") == 0 &&
	         parse_number(value, 1, 1000000, &n) == 0)
		opt->table = (int)n;
	else if ((extras & OPTIONS_POOL) && strcmp(name, "--workers") == 0 &&
	         parse_number(value, 1, 256, &n) == 0)
		opt->workers = (int)n;
	else if ((extras & OPTIONS_POOL) && strcmp(name, "--queue") == 0 &&
	         parse_number(value, 1, 1000000, &n) == 0)
		opt->queue = (int)n;
	else if (strcmp(name, "--log") == 0 && *value != '\0')
		opt->log_path = value;
	else if (strcmp(name, "--gate") == 0 && *value != '\0')
		opt->gate_path = value;
	else if (strcmp(name, "--port") == 0 && parse_number(value, 0, 65535, &n) == 0)
		opt->port = (int)n;
	else if (strcmp(name, "--work-ms") == 0 && parse_number(value, 0, 3600000, &n) == 0)
		opt->work_ms = (int)n;
	else if (strcmp(name, "--timeout-ms") == 0 && parse_number(value, 1, 3600000, &n) == 0)
		opt->timeout_ms = (int)n;
	else if (strcmp(name, "--max-clients") == 0 && parse_number(value, 0, 1000000000, &n) == 0)
		opt->max_clients = n;
	else
		return -1;
	return 0;
}

int options_parse(int argc, char **argv, unsigned extras, struct options *opt)
{
	char more[192];

	snprintf(more, sizeof more, "%s%s%s%s%s", extras & OPTIONS_POOL ? usage_pool : "",
	         extras & OPTIONS_TABLE ? usage_table : "",
	         extras & OPTIONS_JOURNAL ? usage_journal : "",
	         extras & OPTIONS_CONNECTIONS ? usage_connections : "",
	         extras & OPTIONS_KEEP_ALIVE ? usage_keep_alive : "");
	*opt = (struct options){.port = 8080,
	                        .log_path = "jobs.log",
	                        .work_ms = 200,
	                        .timeout_ms = 5000,
	                        .workers = 4,
	                        .queue = 64,
	                        .table = 1024,
	                        .journal = "jobs.journal",
	                        .connections = 256,
	                        .idle_ms = 5000,
	                        .requests = 100};
	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("%s%s [--help]\n%s%s%s%s%s%s%s", usage, more, help,
			       extras & OPTIONS_POOL ? help_pool : "",
			       extras & OPTIONS_TABLE ? help_table : "",
			       extras & OPTIONS_JOURNAL ? help_journal : "",
			       extras & OPTIONS_CONNECTIONS ? help_connections : "",
			       extras & OPTIONS_KEEP_ALIVE ? help_keep_alive : "", help_ready);
			return OPTIONS_HELP;
		}
		const char *value = i + 1 < argc ? argv[i + 1] : "";
		if (set_option(opt, extras, argv[i], value) == -1) {
			fprintf(stderr, "server: bad option '%s%s%s'; %s%s [--help]\n", argv[i],
			        i + 1 < argc ? " " : "", value, usage, more);
			return OPTIONS_BAD;
		}
	}
	/* Every unfinished job (at most workers + queue) needs a row: with fewer rows, a job would
	 * get 503 while the queue still has room. */
	if ((extras & OPTIONS_TABLE) && (long)opt->table < (long)opt->workers + opt->queue) {
		fprintf(stderr,
		        "server: bad option '--table %d': the table needs a row for each of the "
		        "--workers + --queue = %ld unfinished jobs; %s%s [--help]\n",
		        opt->table, (long)opt->workers + opt->queue, usage, more);
		return OPTIONS_BAD;
	}
	return OPTIONS_OK;
}
