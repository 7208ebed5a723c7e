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
	assert_status "$response" "${2:-200}" "reproduce: curl -si http://127.0.0.1:PORT/jobs/$1" || return 1
	printf '%s\n' "${response#*$'\r\n\r\n'}"
}

# Prints the body of GET /jobs/$1 once the job's state is done or failed: a worker writes its
# log line a moment before it records the state, so this polls, at most 5 s.
get_final_status() {
	wait_for_state 5 "$1" "done" failed
}

# wait_for_state SECONDS ID STATE...: polls GET /jobs/ID, at most SECONDS, until the job's state
# is one of STATE...; prints the body. Fails, with the last body, if it never is.
wait_for_state() {
	local limit=$1 id=$2 body state deadline
	shift 2
	deadline=$((SECONDS + limit))
	for (( ; ; )); do
		body=$(get_status "$id") || return 1
		for state in "$@"; do
			[[ $body == *"\"state\":\"$state\""* ]] && printf '%s\n' "$body" && return 0
		done
		((SECONDS < deadline)) || break
		sleep 0.01
	done
	fail "waited ${limit} s for GET /jobs/$id to report the state $*; it still says:" "$body"
}

# Waits, at most 10 s, until the server has read every byte let through the gate: then every job
# let through is past gate_pass().
wait_for_gate_read() {
	local deadline=$((SECONDS + 10))
	while (($("$HCLIENT" pending <&"$GATE_FD") > 0)); do
		((SECONDS < deadline)) || fail "10 s after the gate opened, no worker had read its byte:" \
			"a job must call gate_pass() before it runs" || return 1
		sleep 0.01
	done
}

# Fails unless JSON body $1 says state $2, length $3 and (if given) checksum $4.
assert_job_status() {
	local want="\"state\":\"$2\",\"length\":$3"
	[[ -z ${4-} ]] || want+=",\"checksum\":\"$4\""
	[[ $1 == *"$want"* ]] || fail "GET /jobs/ID should report $want; it said:" "$1"
}

# The scenario for valgrind: A and B held at the gate, their status read while queued; then the
# jobs run, and their status is read again - after the workers have freed the jobs. Then job C
# is held at the gate when SIGTERM arrives, and runs only once the server has stopped accepting:
# its worker writes C's row while the server stops, so the table must outlive the workers.
status_scenario() {
	local a b body
	server_start "$@" --gate --work-ms 0 --workers 2
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
	"$HCLIENT" post "$PORT" --size 100 --seed 33 --timeout-ms 10000 >/dev/null || fail "client C got no 202"
	server_signal TERM
	wait_until_refused
	gate_release 1
	server_wait
	(($(wc -l <"$JOB_LOG") == 3)) ||
		fail "job C was accepted before SIGTERM, so it must run before the server exits:" \
			"the job log has:" "$(cat "$JOB_LOG")"
}

@test "06: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
	run -2 --separate-stderr timeout 5 "$SERVER" --table 0
	# A table smaller than --workers + --queue would refuse jobs the queue has room for.
	run -2 --separate-stderr timeout 5 "$SERVER" --workers 1 --queue 100 --table 8
	# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
	[[ $stderr == *usage:* && $stderr != *$'\n'* ]] ||
		fail "--table 8 with --workers 1 --queue 100 must be refused with one usage line on stderr:" \
			"8 rows for 101 unfinished jobs would give 503s while the queue has room" "$stderr"
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
	r=$(raw_request 'POST /jobs/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')
	assert_status "$r" 405 "reproduce: curl -si -X POST http://127.0.0.1:PORT/jobs/1"
	[[ $r == *$'\r\nAllow: GET\r\n'* ]] || fail "a 405 for /jobs/ID must say Allow: GET:" "$r"
}

@test "06: the table keeps the newest --table jobs: older ones retire, a busy row refuses with 503" {
	local body
	server_start --gate --work-ms 0 --workers 1 --queue 1 --table 2
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
	# One worker, two jobs: it records job 1's end before it starts job 2, so once job 2 is in
	# the log, job 1's row is final and job 1 has been freed.
	server_start --gate --work-ms 0 --workers 1
	"$HCLIENT" post "$PORT" --size 300 --seed 11 >"$BATS_TEST_TMPDIR/sent"
	"$HCLIENT" post "$PORT" --size 20 --seed 12 >/dev/null
	gate_release 2
	wait_for_log_lines 2
	sent=$(head -n 1 "$BATS_TEST_TMPDIR/sent")
	body=$(get_status 1)
	assert_job_status "$body" "done" 300 "${sent#* }"
}

@test "06: a running job reports running, and its row is busy: a job that needs it gets 503" {
	local body
	# A job of 60 s: once past the gate it is running for the rest of the test (teardown kills
	# the server, so nobody waits out the minute), and "running" stays there to be seen.
	server_start --gate --work-ms 60000 --workers 1 --queue 1 --table 2
	"$HCLIENT" post "$PORT" --size 10 --seed 1 >/dev/null
	gate_release
	wait_for_gate_read
	# Its worker passed gate_pass() and is in job_run(): it marked the job running just before.
	body=$(wait_for_state 5 1 running) ||
		fail "job 1 is past the gate and inside its 60 s job_run(): GET /jobs/1 must report running" \
			"(table_update() after gate_pass(), before job_run())"
	[[ $body == '{"id":1,"state":"running","length":10}' ]] ||
		fail "a running job has no checksum yet: GET /jobs/1 should say" \
			'{"id":1,"state":"running","length":10}' "it said:" "$body"
	"$HCLIENT" post "$PORT" --size 20 --seed 2 >/dev/null # job 2, row 0
	"$HCLIENT" post "$PORT" --size 30 --seed 3 --expect 503 >/dev/null ||
		fail "job 3 needs job 1's row, and job 1 is still running: the answer must be 503 with" \
			"Retry-After. A row retires only once its job is done or failed."
	body=$(get_status 1)
	assert_job_status "$body" running 10
}

@test "06: a job the queue refuses with 503 leaves no row behind: GET says 404" {
	local body
	# One worker holds job 1 at the gate, job 2 waits in the queue of 1: job 3 passes
	# table_add() and is refused by job_queue_push().
	server_start --gate --work-ms 0 --workers 1 --queue 1
	"$HCLIENT" post "$PORT" --size 10 --seed 1 >/dev/null
	"$HCLIENT" post "$PORT" --size 20 --seed 2 >/dev/null
	"$HCLIENT" post "$PORT" --size 30 --seed 3 --expect 503 >/dev/null ||
		fail "with one worker and --queue 1 both taken, job 3 must be refused with 503"
	body=$(get_status 2)
	assert_job_status "$body" queued 20
	get_status 3 404 >/dev/null ||
		fail "job 3 was refused with 503, so it does not exist: GET /jobs/3 must be 404." \
			"A job refused after table_add() must give its row back (table_forget())."
	gate_release 2
	wait_for_log_lines 2
}

@test "06: a job whose log line cannot be written reports failed, and its row retires" {
	local body
	# The last --log wins: /dev/full refuses every write with ENOSPC, so every job fails. One
	# worker records job 1's end before it starts job 2.
	server_start --gate --work-ms 0 --workers 1 --queue 1 --table 2 --log /dev/full
	"$HCLIENT" post "$PORT" --size 10 --seed 1 >/dev/null # row 1
	"$HCLIENT" post "$PORT" --size 20 --seed 2 >/dev/null # row 0
	gate_release 2
	wait_for_state 10 2 running failed "done" >/dev/null
	body=$(get_status 1)
	[[ $body == '{"id":1,"state":"failed","length":10}' ]] ||
		fail "job 1 could not write its log line (job_run() returned -1), so it failed:" \
			'GET /jobs/1 should say {"id":1,"state":"failed","length":10}, with no checksum;' \
			"it said:" "$body"
	"$HCLIENT" post "$PORT" --size 30 --seed 3 >/dev/null ||
		fail "job 3 needs job 1's row, and job 1 has failed: a finished job's row retires, so job 3" \
			"must be accepted"
	get_status 1 404 >/dev/null || fail "job 1 retired when job 3 took its row: GET /jobs/1 must be 404"
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

@test "06: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202
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
