#!/usr/bin/env bats
# Lesson 04 - the worker pool: --workers threads take jobs from a bounded queue; beyond
# --workers + --queue unfinished jobs, the accept loop answers 503 with Retry-After at once.
# Runs against solutions/04-worker-pool, or $SERVER (make check L=04 sets it to yours).

load helpers
load contract

setup() {
	use_server 04-worker-pool
}

@test "04: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
	run -2 --separate-stderr timeout 5 "$SERVER" --workers 0
	run -0 timeout 5 "$SERVER" --help
	[[ $output == *--workers* && $output == *--queue* ]] || fail "--help should list --workers and --queue:" "$output"
}

@test "04: answers the next client while every worker is busy" {
	two_clients_at_the_gate --workers 1 --queue 4
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "04: beyond workers + queue jobs, answers 503 with Retry-After at once, and keeps serving" {
	server_start --gate --work-ms 0 --workers 2 --queue 3
	# 12 clients, 6 at a time, while the gate holds every job: 5 fit, 7 must be refused.
	"$HCLIENT" load "$PORT" 12 41 --parallel 6 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		fail "a client got neither 202 nor 503 with Retry-After:" "$(cat "$BATS_TEST_TMPDIR/load")"
	echo "$(cat "$BATS_TEST_TMPDIR/load") (want 5 accepted, 7 refused)"
	grep -q '^5 accepted (202), 7 refused (503)' "$BATS_TEST_TMPDIR/load" ||
		fail "with 2 workers and a queue of 3 all busy, exactly 5 jobs fit and 7 get 503:" \
			"$(cat "$BATS_TEST_TMPDIR/load")"
	gate_release 5
	wait_for_log_lines 5
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	# The pool drained: the server takes jobs again - once the last worker has counted its job
	# done, a moment after its log line, so a 503 or two may come first. A bounded poll, as
	# wait_for_log_lines is: at most 10 s.
	local deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		"$HCLIENT" load "$PORT" 1 3 >"$BATS_TEST_TMPDIR/again" 2>/dev/null
		[[ -s $BATS_TEST_TMPDIR/again ]] && break
		sleep 0.01
	done
	[[ -s $BATS_TEST_TMPDIR/again ]] ||
		fail "after the overload, once the jobs ran, the server should accept jobs again"
	cat "$BATS_TEST_TMPDIR/again" >>"$BATS_TEST_TMPDIR/sent"
	gate_release
	wait_for_log_lines 6
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "04: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate --workers 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "04: a job never touches the next client's connection" {
	contract_job_leaves_sockets_alone --workers 2
}

@test "04: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202
}

@test "04: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "04: survives clients that hang up early" {
	contract_rude_clients 202
}

@test "04: memcheck: no job reads freed memory, a refused job is freed, nothing leaks" {
	server_start --valgrind memcheck --gate --work-ms 0 --workers 1 --queue 1 --max-clients 3
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms 10000 >"$BATS_TEST_TMPDIR/sent"
	"$HCLIENT" post "$PORT" --size 200 --seed 22 --timeout-ms 10000 >>"$BATS_TEST_TMPDIR/sent"
	"$HCLIENT" post "$PORT" --size 100 --seed 33 --timeout-ms 10000 --expect 503 >/dev/null ||
		fail "with 1 worker and a queue of 1 both busy, the third job must get 503"
	gate_release 2
	assert_valgrind_clean
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "04: helgrind: no data race between the accept loop and the workers" {
	two_clients_at_the_gate --valgrind helgrind --workers 2
	assert_valgrind_clean
}

@test "04: DRD: no data race between the accept loop and the workers" {
	two_clients_at_the_gate --valgrind drd --workers 2
	assert_valgrind_clean
}
