#!/usr/bin/env bats
# Lesson 01 - the blocking handler: read the job, do it, then answer 200 with its log line.
# Runs against solutions/01-blocking, or against $SERVER (make check L=01 sets it to yours).

load helpers
load contract

setup() {
	use_server 01-blocking
}

@test "01: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
}

@test "01: answers 200 only after the job is done, with the job's log line as the body" {
	local trace=$BATS_TEST_TMPDIR/trace want order
	server_start --strace "$trace" --work-ms 0
	run -0 curl -si --max-time 10 --data-binary 'hello, job' "http://127.0.0.1:$PORT/jobs"
	assert_status "$output" 200 "reproduce: curl -si --data-binary 'hello, job' http://127.0.0.1:PORT/jobs"
	want="1 10 $(printf 'hello, job' | "$HCLIENT" fnv1a)"
	[[ $output == *$'\r\n\r\n'"$want" ]] ||
		fail "the body should be the job's log line '$want'; the response was:" "$output"
	[[ $(cat "$JOB_LOG") == "$want" ]] ||
		fail "the job log should hold '$want' when the answer arrives; it holds:" "$(cat "$JOB_LOG")"
	# The server's own order, from strace: the job's log line is written before the 200 is sent.
	order=$(awk -v line="$want" 'index($0, "write(") && index($0, "\"" line "\\n\"") && !logged { logged = NR }
		/sendto\([0-9]+, "HTTP\/1\.1 200 / && !answer { answer = NR }
		END { print (logged && answer && logged < answer) ? "job first" : "answer first" }' "$trace")
	[[ $order == "job first" ]] || fail "the 200 was sent before the job wrote its log line: answer only" \
		"after job_run() has returned, with the result it filled. The server's writes, in order (strace):" \
		"$(grep -E '(write|sendto)\(' "$trace" | cut -c1-110)"
}

@test "01: the job runs only when let past the gate, and the answer comes after it" {
	server_start --gate --work-ms 0
	"$HCLIENT" post "$PORT" --size 1000 --seed 3 --expect 200 --response "$BATS_TEST_TMPDIR/response" \
		>"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/client.err" 3>&- &
	local client=$!
	CLIENT_PIDS+=("$client")
	wait_at_gate "$client" || return 1
	[[ ! -s $JOB_LOG ]] || fail "the job ran before it waited at the gate; the log has:" "$(cat "$JOB_LOG")" \
		"call gate_pass() just before the job reads its input, not after"
	gate_release
	wait "$client" || fail "after the gate opened, the client got no proper 200:" "$(cat "$BATS_TEST_TMPDIR/client.err")"
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	[[ $(<"$BATS_TEST_TMPDIR/response") == *$'\r\n\r\n'"$(cat "$JOB_LOG")" ]] ||
		fail "the body of the 200 should be the job's log line; the response was:" "$(cat "$BATS_TEST_TMPDIR/response")"
}

@test "01: the whole answer arrives even when the client sent more than the server read" {
	server_start --work-ms 0
	# 256 KiB past the body, all written before reading: a bare close() would reset them.
	"$HCLIENT" post "$PORT" --size 100 --extra 262144 --expect 200 >/dev/null ||
		client_reset $? "close the connection properly: conn_close_lingering(), not close()" || return 1
	# A refused 2 MB body, sent whole: the 413 must arrive all the same.
	"$HCLIENT" post "$PORT" --size 0 --content-length 2000000 --extra 2000000 --expect 413 >/dev/null ||
		client_reset $? "a refused request's answer must arrive too, though its body was never read:" \
			"close the connection properly on every path: conn_close_lingering(), not close()" || return 1
	# The client goes on sending after the answer: the server reads on until the client closes.
	assert_lingering_close 200 'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
}

@test "01: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 200
}

@test "01: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "01: survives clients that hang up early" {
	contract_rude_clients 200
}

@test "01: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 200
}

@test "01: memcheck finds no errors and no leaks" {
	contract_valgrind_basic memcheck 200
}
