#!/usr/bin/env bats
# Lesson 03 - the background thread: the accept loop answers 202 and hands a copy of the job to
# a detached thread; the request buffer and the socket stay with the accept loop.
# Runs against solutions/03-background-thread, or $SERVER (make check L=03 sets it to yours).

load helpers
load contract

setup() {
	use_server 03-background-thread
}

@test "03: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
}

@test "03: answers the next client while an earlier job is still running" {
	two_clients_at_the_gate
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "03: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "03: a job never touches the next client's connection" {
	contract_job_leaves_sockets_alone
}

@test "03: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202
}

@test "03: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "03: survives clients that hang up early" {
	contract_rude_clients 202
}

@test "03: memcheck: no job reads freed or released memory, and nothing leaks" {
	two_clients_at_the_gate --valgrind memcheck
	assert_valgrind_clean
}

@test "03: helgrind: no data race between the accept loop and a job" {
	two_clients_at_the_gate --valgrind helgrind
	assert_valgrind_clean
}

@test "03: DRD: no data race between the accept loop and a job" {
	two_clients_at_the_gate --valgrind drd
	assert_valgrind_clean
}
