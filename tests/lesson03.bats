#!/usr/bin/env bats
# Lesson 03 - the background thread: the accept loop answers 202 and hands a copy of the job to
# a detached thread; the request buffer and the socket stay with the accept loop.
# Runs against solutions/03-background-thread, or $SERVER (make check L=03 sets it to yours).

load helpers
load contract

setup() {
	use_server 03-background-thread
}

# Two clients, A then B, while both jobs wait at the gate. When B's 202 arrives, the accept loop
# has already reused the request buffer (and, after A's close, A's socket number) for B. Only
# then may the jobs run: each must still log exactly the bytes its own client sent. A third
# client, with no job, lets the server reach --max-clients and exit by itself - after the jobs
# ran, so the accept loop is waiting in accept() while they read their input.
two_clients_at_the_gate() {
	local timeout=1000
	[[ ${1-} == --valgrind ]] && timeout=10000
	server_start "$@" --gate --work-ms 0 --max-clients 3
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms "$timeout" >"$BATS_TEST_TMPDIR/sent" ||
		fail "client A got no 202 while its job waited at the gate"
	"$HCLIENT" post "$PORT" --size 200 --seed 22 --timeout-ms "$timeout" >>"$BATS_TEST_TMPDIR/sent" ||
		fail "client B got no 202 while A's job waited at the gate:" \
			"the accept loop must hand the job to a thread and go back to accept()"
	gate_release 2
	wait_for_log_lines 2 || return 1
	raw_request 'GET /nope HTTP/1.1\r\n\r\n' >/dev/null
	server_wait
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
	server_start --gate --work-ms 0 --max-clients 2
	"$HCLIENT" post "$PORT" --size 100 --seed 5 --timeout-ms 3000 >"$BATS_TEST_TMPDIR/sent"
	# B sends its head and waits: from the "100 Continue" on, the accept loop holds B's socket -
	# under the number A's socket had. Only then may A's job run; then B sends its body.
	mkfifo "$BATS_TEST_TMPDIR/hold" "$BATS_TEST_TMPDIR/b.out"
	"$HCLIENT" post "$PORT" --size 100 --seed 6 --continue --hold "$BATS_TEST_TMPDIR/hold" \
		--timeout-ms 3000 >"$BATS_TEST_TMPDIR/b.out" 2>"$BATS_TEST_TMPDIR/b.err" 3>&- &
	local b_pid=$! line
	exec {b_fd}<"$BATS_TEST_TMPDIR/b.out"
	read -r -t 10 line <&"$b_fd" && echo "$line" >>"$BATS_TEST_TMPDIR/sent"
	read -r -t 10 line <&"$b_fd" && [[ $line == continue ]] ||
		fail "client B never got its '100 Continue'"
	gate_release
	wait_for_log_lines 1
	echo go >"$BATS_TEST_TMPDIR/hold"
	wait "$b_pid" || fail "client B, who connected after A's 202, did not get its own 202:" \
		"$(cat "$BATS_TEST_TMPDIR/b.err")" \
		"a job must never write to or close its client's socket: the number may be someone else's"
	gate_release
	server_wait
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
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
