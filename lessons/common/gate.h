/*
 * gate.h - the test gate: lets a test decide when each job may go on.
 *
 * With --gate PATH (a FIFO the test created), gate_pass() reads one byte from it before a job
 * reads its input, so the job waits until the test writes a byte. Without --gate it returns at
 * once. Tests use it to force, every run, the interleaving that exposes a bug; valgrind's
 * helgrind and DRD do not count a read from a FIFO as synchronisation, so the gate orders the
 * threads without hiding a race from them.
 */
#ifndef HANDOFF_GATE_H
#define HANDOFF_GATE_H

/* Opens the gate; path NULL means no gate. Runs once, before any thread exists. Returns 0, or -1
 * with a message. */
int gate_setup(const char *path);

/* Waits for the test's go-ahead: one byte from the gate. */
void gate_pass(void);

#endif
