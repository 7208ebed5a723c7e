#!/usr/bin/env bats
# Lesson 05 - graceful shutdown: SIGTERM or SIGINT stops accepting, every accepted job still
# runs and is logged exactly once, the workers are joined, everything is freed, exit status 0.
# Runs against solutions/05-graceful-shutdown, or $SERVER (make check L=05 sets it to yours).

load helpers
load contract

setup() {
	use_server 05-graceful-shutdown
}

# stop_with_jobs_queued SIGNAL COUNT [server options...]: COUNT jobs are accepted and held at
# the gate - 4 of them popped by the workers, the rest still queued - when SIGNAL arrives. Only
# then does the gate open. The server must run every one of them and exit 0 by itself.
stop_with_jobs_queued() {
	local signal=$1 count=$2
	shift 2
	server_start "$@" --gate --work-ms 0 --workers 4 --queue 60
	"$HCLIENT" load "$PORT" "$count" 51 --parallel 8 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		fail "sending $count jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")"
	grep -q "^$count accepted" "$BATS_TEST_TMPDIR/load" ||
		fail "all $count jobs should have been accepted:" "$(cat "$BATS_TEST_TMPDIR/load")"
	server_signal "$signal"
	# Only once the server has stopped accepting may the jobs run: all of them are still held
	# at the gate, so a server that drops queued jobs when it stops cannot pass.
	wait_until_refused
	gate_release "$count"
	server_wait
}

@test "05: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
}

@test "05: SIGTERM with 55 jobs queued or running: every 202'd job is logged once, exit 0" {
	stop_with_jobs_queued TERM 55
	((SERVER_STATUS == 0)) || fail "after SIGTERM the server $(describe_exit "$SERVER_STATUS"); it should exit 0" \
		"its stderr:" "$(cat "$SERVER_ERR")"
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "05: SIGINT stops it the same way" {
	stop_with_jobs_queued INT 10
	((SERVER_STATUS == 0)) || fail "after SIGINT the server $(describe_exit "$SERVER_STATUS"); it should exit 0"
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "05: an idle server exits 0 at once on SIGTERM" {
	server_start --work-ms 0
	server_signal TERM
	server_wait
	((SERVER_STATUS == 0)) || fail "after SIGTERM the idle server $(describe_exit "$SERVER_STATUS"); it should exit 0"
}

@test "05: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate --workers 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "05: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202
}

@test "05: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "05: survives clients that hang up early" {
	contract_rude_clients 202
}

@test "05: memcheck: SIGTERM with jobs queued - no errors, and nothing leaks" {
	stop_with_jobs_queued TERM 12 --valgrind memcheck
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	assert_valgrind_clean
}

@test "05: helgrind: no data race while the server shuts down" {
	stop_with_jobs_queued TERM 12 --valgrind helgrind
	assert_valgrind_clean
}

@test "05: DRD: no data race while the server shuts down" {
	stop_with_jobs_queued TERM 12 --valgrind drd
	assert_valgrind_clean
}
