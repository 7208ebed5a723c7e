/*
 * stop_signal.h - SIGTERM and SIGINT as a descriptor to watch: lesson 05's idea, finished.
 *
 * stop_signal_catch() makes both signals write one byte to a pipe - write(2) is all the handler
 * does, since it may interrupt any thread anywhere - and returns the pipe's read end, which
 * becomes readable at the first signal: give it to the accept loop as srv->stop_fd.
 *
 * stop_signal_release() gives both signals back their default action first, and only then
 * closes the pipe, so that no handler can write to a closed descriptor - or to whatever the next
 * open() got under its number. Do not use the descriptor after that.
 */
#ifndef HANDOFF_STOP_SIGNAL_H
#define HANDOFF_STOP_SIGNAL_H

/* Returns the descriptor to watch, or -1 with a message (and then nothing is left set up). */
int stop_signal_catch(void);

/* Restores SIGTERM and SIGINT, then closes the pipe. */
void stop_signal_release(void);

#endif
