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
	# "At once" is 5 s here for all 12, as the answers to clients at the gate must come within 1 s
	# in two_clients_at_the_gate: a server that waits for room never answers while the gate is shut.
	local status=0
	timeout 5 "$HCLIENT" load "$PORT" 12 41 --parallel 6 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		status=$?
	((status != 124)) || fail "not all 12 clients had an answer within 5 s while every job waited at the gate:" \
		"a full pool refuses at once; the accept loop never waits for room (job_queue_push()," \
		"not job_queue_push_wait())"
	((status == 0)) || fail "a client got neither 202 nor 503 with Retry-After:" "$(cat "$BATS_TEST_TMPDIR/load")" \
		"a full pool refuses with response_send_error(), which adds Retry-After, and at once:" \
		"the accept loop never waits for room (job_queue_push(), not job_queue_push_wait())"
	echo "$(cat "$BATS_TEST_TMPDIR/load") (want 5 accepted, 7 refused)"
	grep -q '^5 accepted (202), 7 refused (503)' "$BATS_TEST_TMPDIR/load" ||
		fail "with 2 workers and a queue of 3 all busy, exactly 5 jobs fit and 7 get 503:" \
			"$(cat "$BATS_TEST_TMPDIR/load")"
	# Once every thread of the server waits (the workers at the gate, each with the job it
	# popped), the pool is still full: a job being worked on counts until it is done.
	wait_until_blocked
	"$HCLIENT" post "$PORT" --size 100 --seed 2 --timeout-ms 3000 --expect 503 >/dev/null ||
		fail "the workers have popped their jobs and wait at the gate, but the jobs are not done:" \
			"the pool is still full, and a new job must get 503. A worker calls job_queue_done()" \
			"only after its job has run and been freed, never at the pop"
	gate_release 5
	wait_for_log_lines 5
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	# The pool drained, so the server must take a job again, at once: no wait is needed. Each
	# worker counts a job done (job_queue_done()) before it pops its next one, so with 2 workers,
	# 5 jobs in the log mean at least 3 counted done: at most 2 of the 5 places are still taken.
	"$HCLIENT" post "$PORT" --size 100 --seed 3 --timeout-ms 3000 >>"$BATS_TEST_TMPDIR/sent" ||
		fail "after the overload, once the jobs ran, the server should accept jobs again:" \
			"a worker must tell the queue when it has finished a job (job_queue_done()), or the" \
			"queue counts it as unfinished forever and refuses every job once it was full"
	gate_release
	wait_for_log_lines 6
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

# No worker can start: glibc gives a new thread a stack as large as ulimit -s, here 4 GiB, and
# ulimit -v lets the server map only 1 GiB in all, so pthread_create() fails with EAGAIN. A server
# without its workers would promise jobs that nobody runs: start_pool() must fail, and the server
# must exit with an error before its readiness line. Started by hand, not with server_start, which
# fails a test whose server never gets ready.
@test "04: a server whose workers cannot start exits with an error and never accepts a job" {
	local line fd
	(ulimit -S -s 4194304 -v 1048576) 2>/dev/null ||
		skip "this machine does not allow ulimit -s 4194304 -v 1048576, which makes thread creation fail"
	mkfifo "$BATS_TEST_TMPDIR/out"
	(
		ulimit -S -s 4194304 -v 1048576
		cd "$BATS_TEST_TMPDIR" && exec timeout -k 2 "$SERVER_LIFETIME" env LD_PRELOAD="$SIGNAL_SAFETY" \
			"$SERVER" --port 0 --log "$BATS_TEST_TMPDIR/jobs.log" --workers 2
	) >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	# shellcheck disable=SC2034 # server_wait and teardown (tests/helpers.bash) use it
	SERVER_PID=$!
	exec {fd}<"$BATS_TEST_TMPDIR/out"
	if read -r -t 20 line <&"$fd"; then
		fail "no worker thread could be started (thread_start() returned -1), yet the server printed" \
			"'$line' and would accept jobs that no worker ever runs. start_pool() must return -1" \
			"when a worker does not start; server_run() then exits 1 before the readiness line." \
			"To see it by hand: (ulimit -s 4194304 -v 1048576; exec $SERVER --port 0)"
	fi
	exec {fd}<&-
	server_wait
	((SERVER_STATUS == 1)) ||
		fail "with no worker able to start, start-up has failed: the server must exit 1" \
			"(docs/contract.md); it $(describe_exit "$SERVER_STATUS"). Its stderr:" "$(cat "$BATS_TEST_TMPDIR/err")"
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

@test "04: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202
}

# One worker holds A's job at the gate, B's waits in the queue, C's is refused. C is the last
# client (--max-clients 3), so the server stops the pool with a job running and a job queued; only
# once it has stopped accepting does the gate open. stop_pool() must let both run, join the
# worker, and free the pool - then memcheck sees the refused job, the queue and the pool freed.
@test "04: memcheck: no job reads freed memory, a refused job is freed, nothing leaks" {
	server_start --valgrind memcheck --gate --work-ms 0 --workers 1 --queue 1 --max-clients 3
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms 10000 >"$BATS_TEST_TMPDIR/sent"
	"$HCLIENT" post "$PORT" --size 200 --seed 22 --timeout-ms 10000 >>"$BATS_TEST_TMPDIR/sent"
	"$HCLIENT" post "$PORT" --size 100 --seed 33 --timeout-ms 10000 --expect 503 >/dev/null ||
		fail "with 1 worker and a queue of 1 both busy, the third job must get 503"
	wait_until_refused
	gate_release 2
	server_wait
	[[ $(logged_jobs) == "$(sort "$BATS_TEST_TMPDIR/sent")" ]] ||
		fail "the server stopped at --max-clients with A's job running and B's queued; both" \
			"were accepted, so both must run before it exits: stop_pool() closes the queue, then" \
			"joins the workers, who drain it, and only then destroys it. The server $(describe_exit "$SERVER_STATUS")." \
			"$(assert_log_holds "$BATS_TEST_TMPDIR/sent" 2>&1)"
	assert_valgrind_clean
}

@test "04: helgrind: no data race between the accept loop and the workers" {
	two_clients_at_the_gate --valgrind helgrind --workers 2
	assert_valgrind_clean
}

@test "04: DRD: no data race between the accept loop and the workers" {
	two_clients_at_the_gate --valgrind drd --workers 2
	assert_valgrind_clean
}
