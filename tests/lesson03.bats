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

# The gate is what lets the other tests hold a job until the accept loop has reused the request
# buffer and the socket number; a job that passes it only after it has run cannot be held.
@test "03: a job waits at the gate before it reads its input, and the server waits for it" {
	server_start --gate --work-ms 0 --max-clients 1
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms 1000 >"$BATS_TEST_TMPDIR/sent" ||
		client_failed $? "the client got no 202 while its job waited at the gate" || return 1
	local wait_for_jobs=("at --max-clients the server must wait for its job threads before it returns from main,"
		"or it ends jobs it has promised: thread_start_detached() counts them for that")
	if ! server_alive; then
		server_wait
		fail "after its one client (--max-clients 1) the server $(describe_exit "$SERVER_STATUS")" \
			"while its job still waited at the gate:" "${wait_for_jobs[@]}"
	fi
	wait_at_gate
	[[ ! -s $JOB_LOG ]] ||
		fail "a thread of the server waits at the gate, but the job has already run; the log has:" \
			"$(cat "$JOB_LOG")" "gate_pass() belongs in the job thread just before job_run(): the" \
			"tests hold a job there until the accept loop has reused the buffer and the socket"
	# Its one client served, the server has stopped accepting; now it must wait for the job.
	wait_until_blocked || fail "${wait_for_jobs[@]}"
	gate_release
	server_wait
	((SERVER_STATUS == 0)) || fail "after its one client (--max-clients 1) the server $(describe_exit "$SERVER_STATUS")"
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "03: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "03: a job never touches the next client's connection" {
	contract_job_leaves_sockets_alone
}

# Every thread the server tries to start fails: glibc gives a new thread a stack as large as
# ulimit -s, here 4 GiB, and ulimit -v lets the server map only 1 GiB in all. The server itself
# starts as usual; only pthread_create() fails, with EAGAIN.
@test "03: a job no thread can take gets 503 and Retry-After, never runs, and is freed (memcheck)" {
	local stack address
	stack=$(ulimit -S -s) address=$(ulimit -S -v)
	(ulimit -S -s 4194304 -v 1048576) 2>/dev/null ||
		skip "this machine does not allow ulimit -s 4194304 -v 1048576, which makes thread creation fail"
	ulimit -S -s 4194304 -v 1048576
	server_start --valgrind memcheck --work-ms 0 --max-clients 1
	ulimit -S -s "$stack" -v "$address"
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms 10000 --expect 503 \
		--response "$BATS_TEST_TMPDIR/response" >/dev/null ||
		fail "no thread could be started for this job (thread_start_detached() returned -1), so" \
			"no thread will ever run it: the server must not promise it with a 202. It must answer" \
			"503 (response_send_error()), and only once the hand-off has failed. To see it by hand:" \
			"  (ulimit -s 4194304 -v 1048576; exec $SERVER --port 0)  and curl a job to it"
	grep -qi '^Retry-After:' "$BATS_TEST_TMPDIR/response" ||
		fail "a 503 must say when to come back (Retry-After); the response was:" \
			"$(cat "$BATS_TEST_TMPDIR/response")"
	assert_valgrind_clean
	[[ ! -s $JOB_LOG ]] || fail "a job answered 503 must not run; the log has:" "$(cat "$JOB_LOG")"
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

@test "03: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202
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
