/*
 * status_table.c - the status table. See status_table.h for the contract.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "status_table.h"

static const char *const state_names[] = {"queued", "running", "done", "failed"};

/* Workers write rows and the accept loop (from lesson 08, each connection thread) reads them,
 * always holding table_lock. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job_status *table; /* table_size rows, from table_start() to table_stop() */
static size_t table_size;

int table_start(size_t size)
{
	if ((table = calloc(size, sizeof *table)) == NULL) {
		fprintf(stderr, "table_start: calloc %zu rows: %s\n", size, strerror(errno));
		return -1;
	}
	table_size = size;
	return 0;
}

void table_stop(void)
{
	free(table);
	table = NULL;
}

/* Gives job id its row, queued. Returns 0, or -1 if an unfinished job still holds the row. */
int table_add(uint64_t id, size_t len)
{
	struct job_status *row = &table[id % table_size];
	int added = 0;

	pthread_mutex_lock(&table_lock);
	if (row->id == 0 || row->state == JOB_DONE || row->state == JOB_FAILED) {
		*row = (struct job_status){.id = id, .state = JOB_QUEUED, .len = len};
		added = 1;
	}
	pthread_mutex_unlock(&table_lock);
	return added ? 0 : -1;
}

/* Records a job's new state (and, once done, its checksum). */
void table_update(uint64_t id, enum job_state state, uint64_t checksum)
{
	struct job_status *row = &table[id % table_size];

	pthread_mutex_lock(&table_lock);
	if (row->id == id) {
		row->state = state;
		row->checksum = checksum;
	}
	pthread_mutex_unlock(&table_lock);
}

/* Empties job id's row again: the job was refused after table_add(). */
void table_forget(uint64_t id)
{
	pthread_mutex_lock(&table_lock);
	if (table[id % table_size].id == id)
		table[id % table_size] = (struct job_status){0};
	pthread_mutex_unlock(&table_lock);
}

/* Copies job id's row into *copy, under the lock. Returns 0, or -1 for an unknown id. */
int table_lookup(uint64_t id, struct job_status *copy)
{
	int found;

	pthread_mutex_lock(&table_lock);
	*copy = table[id % table_size];
	found = copy->id == id;
	pthread_mutex_unlock(&table_lock);
	return found ? 0 : -1;
}

/* Answers GET /jobs/ID from a copy of the job's row. */
void send_status(int connfd, uint64_t id)
{
	send_status_conn(connfd, id, 0);
}

int send_status_conn(int connfd, uint64_t id, int keep_alive)
{
	struct job_status row;
	char body[160];
	int n;

	if (table_lookup(id, &row) == -1)
		return response_send_error_conn(connfd, 404, keep_alive);
	n = snprintf(body, sizeof body, "{\"id\":%" PRIu64 ",\"state\":\"%s\",\"length\":%zu",
	             row.id, state_names[row.state], row.len);
	if (row.state == JOB_DONE)
		n += snprintf(body + n, sizeof body - (size_t)n, ",\"checksum\":\"%016" PRIx64 "\"",
		              row.checksum);
	n += snprintf(body + n, sizeof body - (size_t)n, "}\n");
	return response_send_conn(connfd, 200, "Content-Type: application/json\r\n", body,
	                          (size_t)n, keep_alive);
}
