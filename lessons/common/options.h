/*
 * options.h - the command line every server in the kit shares (see docs/contract.md).
 */
#ifndef HANDOFF_OPTIONS_H
#define HANDOFF_OPTIONS_H

struct options {
	int port;              /* --port N: 0 = any free port */
	const char *log_path;  /* --log PATH: the job log */
	int work_ms;           /* --work-ms MS: how long one job works */
	const char *gate_path; /* --gate PATH: test-only FIFO, see gate.h */
	int timeout_ms;        /* --timeout-ms MS: a whole request must arrive within this */
	long max_clients;      /* --max-clients N: test-only, stop after N clients (0 = never) */
	int workers;           /* --workers N: worker threads (lesson 04 on) */
	int queue;             /* --queue N: jobs that may wait for a worker (lesson 04 on) */
	int table;             /* --table N: jobs whose status is kept (lesson 06 on) */
	const char *journal;   /* --journal PATH: accepted jobs, on disk (lesson 07) */
	int group_commit;      /* --commit group: one fsync for many acceptances (07's stretch) */
	int connections;       /* --connections N: connections served at a time (lesson 08 on) */
	int idle_ms;           /* --idle-ms MS: the wait for a connection's next request (09 on) */
	int requests;          /* --requests N: requests served on one connection (lesson 09 on) */
};

/* The options a lesson adds to the common ones, for options_parse(). */
enum {
	OPTIONS_POOL = 1 << 0,        /* --workers, --queue */
	OPTIONS_TABLE = 1 << 1,       /* --table */
	OPTIONS_JOURNAL = 1 << 2,     /* --journal, --commit */
	OPTIONS_CONNECTIONS = 1 << 3, /* --connections */
	OPTIONS_KEEP_ALIVE = 1 << 4   /* --idle-ms, --requests */
};

/* What options_parse() found. */
enum { OPTIONS_OK, OPTIONS_HELP, OPTIONS_BAD };

/* Fills *opt from argv, accepting the common options and the extras a lesson takes. On
 * OPTIONS_HELP it has printed the help on stdout; on OPTIONS_BAD, a one-line usage message on
 * stderr. */
int options_parse(int argc, char **argv, unsigned extras, struct options *opt);

#endif
