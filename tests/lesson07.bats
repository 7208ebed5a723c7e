#!/usr/bin/env bats
# Lesson 07 - durable acceptance: a job is in the journal, on disk, before its 202; a worker marks
# it done after its log line; on start, every job not done runs again. kill -9 at any moment and
# a restart: every job that got a 202 is in the job log exactly once.
# Runs against solutions/07-durable-acceptance, or $SERVER (make check L=07 sets it to yours).

load helpers
load contract

setup() {
	use_server 07-durable-acceptance
	JOURNAL=$BATS_TEST_TMPDIR/journal
}

# crash_after COUNT DONE [server options...]: COUNT jobs accepted and held at the gate, DONE of
# them let through and logged, then kill -9. The journal now holds COUNT jobs, DONE of them
# finished.
crash_after() {
	server_start --gate --work-ms 0 --workers 2 --queue 60 --journal "$JOURNAL" "${@:3}"
	"$HCLIENT" load "$PORT" "$1" 71 --parallel 4 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		fail "sending $1 jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")"
	grep -q "^$1 accepted" "$BATS_TEST_TMPDIR/load" ||
		fail "all $1 jobs should have been accepted:" "$(cat "$BATS_TEST_TMPDIR/load")"
	gate_release "$2"
	wait_for_log_lines "$2"
	server_kill9
}

# restart_and_finish COUNT [server options...]: restarts on the same journal and job log, waits
# until the log has COUNT lines, then stops the server with SIGTERM.
restart_and_finish() {
	local count=$1
	shift
	server_start "$@" --work-ms 0 --journal "$JOURNAL"
	wait_for_log_lines "$count"
	server_signal TERM
	server_wait
}

# Fails unless no job id appears twice in the job log.
assert_ids_unique() {
	local repeated
	repeated=$(cut -d' ' -f1 "$JOB_LOG" | sort -n | uniq -d)
	[[ -z $repeated ]] || fail "these job ids are in the log more than once - a job ran twice:" "$repeated" \
		"the job log:" "$(cat "$JOB_LOG")"
}

@test "07: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
	run -0 timeout 5 "$SERVER" --help
	[[ $output == *--journal* ]] || fail "--help should list --journal:" "$output"
}

@test "07: a job is in the journal before its 202" {
	server_start --gate --work-ms 0 --journal "$JOURNAL"
	"$HCLIENT" post "$PORT" --size 300 --seed 11 >/dev/null
	[[ -s $JOURNAL ]] || fail "after the 202, the journal ($JOURNAL) is still empty: journal the job first"
	grep -aq '^J 1 300$' "$JOURNAL" ||
		fail "the journal should hold the record 'J 1 300' and the body; it holds:" "$(head -c 200 "$JOURNAL" | cat -v)"
}

@test "07: kill -9 with jobs queued, restart: every 202'd job is logged exactly once" {
	crash_after 20 5
	restart_and_finish 20
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after SIGTERM the restarted server $(describe_exit "$SERVER_STATUS")"
}

@test "07: a finished job does not run again after a restart, and new ids go on from the last" {
	crash_after 3 3
	restart_and_finish 3
	assert_ids_unique
	server_start --work-ms 0 --journal "$JOURNAL"
	"$HCLIENT" post "$PORT" --size 10 --seed 4 --response "$BATS_TEST_TMPDIR/202" >>"$BATS_TEST_TMPDIR/sent"
	grep -q $'^Location: /jobs/4\r$' "$BATS_TEST_TMPDIR/202" ||
		fail "after 3 journaled jobs, the next id must be 4; the 202 was:" "$(cat "$BATS_TEST_TMPDIR/202")"
	wait_for_log_lines 4
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "07: a job logged but not yet marked done does not run again" {
	crash_after 3 3
	# A crash between job 3's log line and its done record: take the record away.
	grep -av '^D 3$' "$JOURNAL" >"$JOURNAL.cut"
	mv "$JOURNAL.cut" "$JOURNAL"
	restart_and_finish 3
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "07: a record cut short by a crash is dropped, and the server starts" {
	crash_after 2 2
	printf 'J 3 100\npartial' >>"$JOURNAL"
	restart_and_finish 2
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	! grep -aq partial "$JOURNAL" || fail "the torn record must be cut from the journal; it is still there"
}

@test "07: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate --workers 2 --journal "$JOURNAL"
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "07: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202 --journal "$JOURNAL"
}

@test "07: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests --journal "$JOURNAL"
}

@test "07: survives clients that hang up early" {
	contract_rude_clients 202 --journal "$JOURNAL"
}

@test "07: memcheck: replaying the journal reads no freed memory, and nothing leaks" {
	crash_after 6 2
	restart_and_finish 6 --valgrind memcheck
	assert_valgrind_clean
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "07: helgrind: no data race between the replay and the workers" {
	crash_after 6 2
	restart_and_finish 6 --valgrind helgrind
	assert_valgrind_clean
}

@test "07: DRD: no data race between the replay and the workers" {
	crash_after 6 2
	restart_and_finish 6 --valgrind drd
	assert_valgrind_clean
}

# The stretch, group commit: the accept loop writes each record, a committer thread makes many
# durable with one fsync and only then queues their jobs and sends their 202s. A server without
# the stretch takes --commit group and fsyncs each job as before, and passes these too.

@test "07: --commit group: kill -9 with jobs queued, restart: every 202'd job is logged exactly once" {
	crash_after 20 5 --commit group
	grep -ac '^J ' "$JOURNAL" | grep -qx 20 ||
		fail "after 20 202s the journal should hold 20 job records; it holds:" "$(grep -a '^[JD] ' "$JOURNAL")"
	restart_and_finish 20 --commit group
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after SIGTERM the restarted server $(describe_exit "$SERVER_STATUS")"
}

# group_commit_under TOOL...: 12 jobs from 4 clients at a time under each valgrind TOOL, with
# --commit group; the server stops by itself after them, and every tool must have been content.
group_commit_under() {
	local tool
	for tool in "$@"; do
		server_start --valgrind "$tool" --work-ms 0 --workers 2 --journal "$JOURNAL.$tool" \
			--commit group --max-clients 12
		"$HCLIENT" load "$PORT" 12 5 --parallel 4 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
			fail "$tool: sending 12 jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")"
		assert_valgrind_clean
		assert_log_holds "$BATS_TEST_TMPDIR/sent"
		rm -f "$JOB_LOG"
	done
}

@test "07: --commit group: memcheck: the committer frees every hand-over, and nothing leaks" {
	group_commit_under memcheck
}

@test "07: --commit group: helgrind and DRD: no data race between the accept loop and the committer" {
	group_commit_under helgrind drd
}
