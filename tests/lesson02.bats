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
		client_failed $? "no complete 202 while the job was held at the gate: answer, and close the" \
			"connection, before you do the job" || return 1
	wait_at_gate || return 1
	[[ ! -s $JOB_LOG ]] || fail "the job ran before it waited at the gate; the log has:" "$(cat "$JOB_LOG")" \
		"call gate_pass() just before the job reads its input, not after"
	gate_release
	wait_for_log_lines 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "02: a 202 has Content-Length: 0 and Connection: close" {
	server_start --work-ms 0
	run -0 curl -si --max-time 10 --data-binary 'x' "http://127.0.0.1:$PORT/jobs"
	assert_status "$output" 202 "reproduce: curl -si --data-binary x http://127.0.0.1:PORT/jobs"
	[[ $output == *$'\r\nContent-Length: 0\r\n'* && $output == *$'\r\nConnection: close\r\n'* ]] ||
		fail "expected the headers Content-Length: 0 and Connection: close in:" "$output"
}

@test "02: the whole 202 arrives even when the client sent more than the server read" {
	server_start --work-ms 0
	# 256 KiB past the body, all written before reading: a bare close() would reset them.
	"$HCLIENT" post "$PORT" --size 100 --extra 262144 >/dev/null ||
		client_reset $? "close the connection properly: shutdown(SHUT_WR), read until EOF (bounded), then close()" || return 1
	# The client goes on sending after the 202: the server reads on until the client closes.
	assert_lingering_close 202 'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
}

@test "02: a refused request's whole answer arrives even when its body was never read" {
	server_start --work-ms 0
	# A 2 MB body, refused at its head and sent whole all the same: the 413 must still arrive.
	"$HCLIENT" post "$PORT" --size 0 --content-length 2000000 --extra 2000000 --expect 413 >/dev/null ||
		client_reset $? "close the connection properly on the error path too: a refused request leaves" \
			"its body unread, and a bare close() resets the connection under the answer" || return 1
	# The client sends the rest of the refused body after the 413: the server reads on until it closes.
	assert_lingering_close 413 'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n'
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

@test "02: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202
}

@test "02: memcheck finds no errors and no leaks" {
	contract_valgrind_basic memcheck 202
}
