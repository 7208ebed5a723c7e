#!/usr/bin/env bats
# Lesson 06 - the status monitor: the 202 carries Location: /jobs/ID; GET /jobs/ID reports the
# job's state from a copy of its row in a bounded status table, which workers update.
# Runs against solutions/06-status-monitor, or $SERVER (make check L=06 sets it to yours).

load helpers
load contract

setup() {
	use_server 06-status-monitor
}

# Prints the body of GET /jobs/$1, or fails unless the status is $2 (default 200).
get_status() {
	local response
	response=$(curl -si --max-time 10 "http://127.0.0.1:$PORT/jobs/$1") || true
	assert_status "$response" "${2:-200}" "reproduce: curl -si http://127.0.0.1:$PORT/jobs/$1" || return 1
	printf '%s\n' "${response#*$'\r\n\r\n'}"
}

# Prints the body of GET /jobs/$1 once the job's state is done or failed: a worker writes its
# log line a moment before it records the state, so this polls, at most 10 s.
get_final_status() {
	local body i
	for ((i = 0; i < 1000; i++)); do
		body=$(get_status "$1") || return 1
		[[ $body == *'"state":"done"'* || $body == *'"state":"failed"'* ]] && break
		sleep 0.01
	done
	printf '%s\n' "$body"
}

# Fails unless JSON body $1 says state $2, length $3 and (if given) checksum $4.
assert_job_status() {
	local want="\"state\":\"$2\",\"length\":$3"
	[[ -z ${4-} ]] || want+=",\"checksum\":\"$4\""
	[[ $1 == *"$want"* ]] || fail "GET /jobs/ID should report $want; it said:" "$1"
}

# The scenario for valgrind: A and B held at the gate, their status read while queued; then the
# jobs run, and their status is read again - after the workers have freed the jobs.
status_scenario() {
	local a b body
	server_start "$@" --gate --work-ms 0 --workers 2 --max-clients 5
	a=$("$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms 10000) || fail "client A got no 202"
	b=$("$HCLIENT" post "$PORT" --size 200 --seed 22 --timeout-ms 10000) || fail "client B got no 202"
	body=$(get_status 1)
	assert_job_status "$body" queued 300
	gate_release 2
	wait_for_log_lines 2 || return 1
	body=$(get_final_status 1)
	assert_job_status "$body" "done" "${a% *}" "${a#* }"
	body=$(get_final_status 2)
	assert_job_status "$body" "done" "${b% *}" "${b#* }"
	server_wait
}

@test "06: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
	run -2 --separate-stderr timeout 5 "$SERVER" --table 0
	run -0 timeout 5 "$SERVER" --help
	[[ $output == *--table* ]] || fail "--help should list --table:" "$output"
}

@test "06: the 202 says Location: /jobs/ID; GET there reports queued, then done with the checksum" {
	local body sent
	server_start --gate --work-ms 0
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --response "$BATS_TEST_TMPDIR/202" >"$BATS_TEST_TMPDIR/sent"
	grep -q $'^Location: /jobs/1\r$' "$BATS_TEST_TMPDIR/202" ||
		fail "the 202 should carry 'Location: /jobs/1' (RFC 9110, 15.3.3); it was:" "$(cat "$BATS_TEST_TMPDIR/202")"
	body=$(get_status 1)
	assert_job_status "$body" queued 300
	gate_release
	wait_for_log_lines 1
	sent=$(cat "$BATS_TEST_TMPDIR/sent")
	body=$(get_final_status 1)
	assert_job_status "$body" "done" 300 "${sent#* }"
	[[ $body == '{"id":1,'* ]] || fail "the status should start with the job's id, {\"id\":1,...; it said:" "$body"
}

@test "06: GET answers 404 for an unknown job, and other methods get 405 with Allow" {
	local r
	server_start --work-ms 0
	get_status 7 404 >/dev/null
	get_status 0 404 >/dev/null
	get_status abc 404 >/dev/null
	r=$(raw_request 'POST /jobs/1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n')
	assert_status "$r" 405 "reproduce: curl -si -X POST http://127.0.0.1:$PORT/jobs/1"
	[[ $r == *$'\r\nAllow: GET\r\n'* ]] || fail "a 405 for /jobs/ID must say Allow: GET:" "$r"
}

@test "06: the table keeps the newest --table jobs: older ones retire, a busy row refuses with 503" {
	local body
	server_start --gate --work-ms 0 --table 2
	"$HCLIENT" post "$PORT" --size 10 --seed 1 >/dev/null
	gate_release
	wait_for_log_lines 1
	get_final_status 1 >/dev/null || return 1 # done in the table too, a moment after its line
	"$HCLIENT" post "$PORT" --size 20 --seed 2 >/dev/null # job 2, held at the gate
	"$HCLIENT" post "$PORT" --size 30 --seed 3 >/dev/null # job 3 takes job 1's row: 1 was done
	get_status 1 404 >/dev/null || fail "job 1 retired when job 3 took its row: GET /jobs/1 must be 404"
	body=$(get_status 3)
	assert_job_status "$body" queued 30
	"$HCLIENT" post "$PORT" --size 40 --seed 4 --expect 503 >/dev/null ||
		fail "job 4 needs job 2's row, and job 2 is not done: the answer must be 503 with Retry-After"
	gate_release 2
	wait_for_log_lines 3
}

@test "06: the status of a finished job is read from a copy, not from the freed job" {
	local body sent
	server_start --gate --work-ms 0 --workers 1
	"$HCLIENT" post "$PORT" --size 300 --seed 11 >"$BATS_TEST_TMPDIR/sent"
	gate_release
	wait_for_log_lines 1
	sent=$(cat "$BATS_TEST_TMPDIR/sent")
	body=$(get_final_status 1)
	assert_job_status "$body" "done" 300 "${sent#* }"
}

@test "06: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate --workers 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "06: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202
}

@test "06: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "06: survives clients that hang up early" {
	contract_rude_clients 202
}

@test "06: memcheck: no status read touches freed memory, and nothing leaks" {
	status_scenario --valgrind memcheck
	assert_valgrind_clean
}

@test "06: helgrind: no data race between the status readers and the workers" {
	status_scenario --valgrind helgrind
	assert_valgrind_clean
}

@test "06: DRD: no data race between the status readers and the workers" {
	status_scenario --valgrind drd
	assert_valgrind_clean
}
