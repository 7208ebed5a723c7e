/*
 * replay.h - lesson 07's replay, finished: what a restart owes the clients that got a 202.
 *
 * journal_replay() reads a journal just opened (journal_open()) from its start. For every job
 * it holds that is neither marked done nor in the job log, it calls requeue(job), in id order,
 * and the job is requeue's from then on. A job in the job log but not marked done - a crash fell
 * between its log line and its done record - gets its done record instead, and does not run
 * again. *next_id is raised past the highest journaled id, so that no id is given twice.
 *
 * The job log is read once, whatever the number of jobs pending. Returns 0, or -1 with a
 * message; on -1, nothing was handed to requeue.
 */
#ifndef HANDOFF_REPLAY_H
#define HANDOFF_REPLAY_H

#include <stdint.h>

#include "job.h"
#include "journal.h"

/* Takes over a journaled job that must run again. */
typedef void replay_requeue_fn(struct job *job);

int journal_replay(struct journal *journal, const char *log_path, uint64_t *next_id,
                   replay_requeue_fn *requeue);

#endif
