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
	server_start --work-ms 0
	run -0 curl -si --max-time 10 --data-binary 'hello, job' "http://127.0.0.1:$PORT/jobs"
	assert_status "$output" 200 "reproduce: curl -si --data-binary 'hello, job' http://127.0.0.1:$PORT/jobs"
	local want
	want="1 10 $(printf 'hello, job' | "$HCLIENT" fnv1a)"
	[[ $output == *$'\r\n\r\n'"$want" ]] ||
		fail "the body should be the job's log line '$want'; the response was:" "$output"
	[[ $(cat "$JOB_LOG") == "$want" ]] ||
		fail "the job log should hold '$want' when the answer arrives; it holds:" "$(cat "$JOB_LOG")"
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

@test "01: memcheck finds no errors and no leaks" {
	contract_valgrind_basic memcheck 200
}
