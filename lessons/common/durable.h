/*
 * durable.h - jobs that survive a crash of the process: lesson 07's idea, finished.
 *
 * durable_start() starts the status table and the pool, opens the journal, and queues again
 * every job a 202 promised that did not run (replay.h); its workers journal each job done after
 * its log line. durable_accept(job) gives a job its row, journals it - on disk when it returns -
 * and queues it: only then may a 202 promise it.
 *
 * Ownership: durable_accept() takes over the job either way. On 0 the pool owns it and its
 * worker frees it; on 503 the job was taken back - marked done in the journal, so that a restart
 * does not run it, its row emptied - and freed. Do not touch the job after the call. Jobs are
 * journaled in the order of the calls, and the replay expects them in id order: a server that
 * accepts on many threads calls durable_accept() in id order, under one lock (lesson 08).
 */
#ifndef HANDOFF_DURABLE_H
#define HANDOFF_DURABLE_H

#include "job.h"
#include "server.h"

/* Before the first client: the table (--table), the pool (--workers, --queue), the journal
 * (--journal), its replay; srv->next_id goes on after the highest journaled id. Returns 0, or -1
 * with a message - and then nothing is left running or allocated. */
int durable_start(struct server *srv);

/* Gives job its row, journals it and queues it. Returns 0, or 503 if the table or the pool is
 * at its limit or the journal failed. Takes over job either way. */
int durable_accept(struct job *job);

/* After the last job has been accepted: runs every queued job, joins the workers, then frees
 * the table and closes the journal. */
void durable_stop(void);

#endif
