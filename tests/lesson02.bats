#!/usr/bin/env bats
# Lesson 02 - answer first: 202 Accepted at once, a proper (lingering) close, then the job.
# Runs against solutions/02-answer-first, or against $SERVER (make check L=02 sets it to yours).

load helpers
load contract

setup() {
	use_server 02-answer-first
}

@test "02: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
}

@test "02: answers 202 before the job runs, and the job runs after" {
	server_start --gate
	# The gate holds the job: the 202 must come anyway, within 1 s (it takes about 1 ms).
	"$HCLIENT" post "$PORT" --size 1000 --seed 2 --timeout-ms 1000 >"$BATS_TEST_TMPDIR/sent" ||
		fail "no 202 while the job was held at the gate: answer before you do the job"
	[[ ! -s $JOB_LOG ]] || fail "the job ran before the test let it past the gate; the log has:" "$(cat "$JOB_LOG")"
	gate_release
	wait_for_log_lines 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "02: a 202 has Content-Length: 0 and Connection: close" {
	server_start --work-ms 0
	run -0 curl -si --max-time 10 --data-binary 'x' "http://127.0.0.1:$PORT/jobs"
	assert_status "$output" 202 "reproduce: curl -si --data-binary x http://127.0.0.1:$PORT/jobs"
	[[ $output == *$'\r\nContent-Length: 0\r\n'* && $output == *$'\r\nConnection: close\r\n'* ]] ||
		fail "expected the headers Content-Length: 0 and Connection: close in:" "$output"
}

@test "02: the whole 202 arrives even when the client sent more than the server read" {
	server_start --work-ms 0
	# 256 KiB past the body, all written before reading: a bare close() would reset them.
	"$HCLIENT" post "$PORT" --size 100 --extra 262144 >/dev/null ||
		fail "close the connection properly: shutdown(SHUT_WR), read until EOF (bounded), then close()"
}

@test "02: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202
}

@test "02: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "02: survives clients that hang up early" {
	contract_rude_clients 202
}

@test "02: memcheck finds no errors and no leaks" {
	contract_valgrind_basic memcheck 202
}
