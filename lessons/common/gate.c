/*
 * gate.c - the test gate. See gate.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gate.h"

/* Set once by gate_setup(), before any thread exists; read-only afterwards. */
static int gate_fd = -1;

int gate_setup(const char *path)
{
	if (path == NULL)
		return 0;
	/* O_RDWR, not O_RDONLY: opening a FIFO to read waits until a writer opens it, and reading
	 * it sees EOF whenever no writer is left. Holding a write end ourselves (Linux allows this
	 * for FIFOs) means neither happens: a read simply waits for the test's next byte. */
	gate_fd = open(path, O_RDWR | O_CLOEXEC);
	if (gate_fd == -1) {
		fprintf(stderr, "open gate %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

void gate_pass(void)
{
	char byte;

	if (gate_fd == -1)
		return;
	while (read(gate_fd, &byte, 1) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "read gate: %s\n", strerror(errno));
			return;
		}
	}
}
