#!/usr/bin/env bats
# Lesson 07 - durable acceptance: a job is in the journal, on disk, before its 202; a worker marks
# it done after its log line; on start, every job not done runs again. kill -9 at any moment and
# a restart: every job that got a 202 is in the job log exactly once.
# Runs against solutions/07-durable-acceptance, or $SERVER (make check L=07 sets it to yours).

load helpers
load contract
load durable

setup() {
	use_server 07-durable-acceptance
	JOURNAL=$BATS_TEST_TMPDIR/journal
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

@test "07: strace: each 202 goes out after its record is fsync()ed, each done record after its log line" {
	# The crash tests cannot see a missing fsync(): after kill -9 the page cache still holds
	# every record written. The order of the system calls shows it.
	assert_durable_order
}

@test "07: kill -9 with jobs queued, restart: every 202'd job is logged exactly once" {
	crash_after 20 5
	# Room for 6 unfinished jobs of 2 ms each, and 15 to replay: the replay must wait for room,
	# not drop a job it cannot queue at once.
	restart_and_finish 20 --workers 2 --queue 4 --work-ms 2
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
	# Jobs 1 to 3 journaled, job 1 done; then job 4's record cut at every byte in turn: in its
	# head, in its body, before its last newline. Each restart must drop it, cut it from the
	# journal, keep every byte before it, and run jobs 2 and 3, once.
	local record=$'J 4 2\nab\n' cut size want tail torn
	crash_after 3 1
	cp "$JOURNAL" "$BATS_TEST_TMPDIR/journal.crashed"
	cp "$JOB_LOG" "$BATS_TEST_TMPDIR/log.crashed"
	size=$(stat -c %s "$JOURNAL")
	want=$(sort "$BATS_TEST_TMPDIR/sent")
	for ((cut = 1; cut < ${#record}; cut++)); do
		torn=${record:0:cut}
		cp "$BATS_TEST_TMPDIR/journal.crashed" "$JOURNAL"
		cp "$BATS_TEST_TMPDIR/log.crashed" "$JOB_LOG"
		printf '%s' "$torn" >>"$JOURNAL"
		restart_and_finish 3
		if [[ $(logged_jobs) != "$want" ]]; then
			echo "job 4's record cut after $cut byte(s): ${torn@Q}"
			assert_ids_unique
			assert_log_holds "$BATS_TEST_TMPDIR/sent"
			return 1
		fi
		cmp -s -n "$size" "$BATS_TEST_TMPDIR/journal.crashed" "$JOURNAL" ||
			fail "with job 4's record cut after $cut byte(s), ${torn@Q}, the restart changed the" \
				"records before it: only the cut record may go"
		tail=$(tail -c +"$((size + 1))" "$JOURNAL")
		[[ $tail =~ ^(D\ [123]$'\n'?)*$ ]] ||
			fail "with job 4's record cut after $cut byte(s), ${torn@Q}, the restart left this after" \
				"the records before it:" "${tail@Q}" \
				"only done records belong there: the torn bytes must be cut from the journal" \
				"(ftruncate()), or the next record lands after them and is lost at the next restart"
	done
}

# refused_then_crash [server options...]: one worker and room for two unfinished jobs; jobs 1
# and 2 get a 202 and wait at the gate, job 3 gets a 503 - after its record was written, in the
# reference. Then kill -9, a restart, and SIGTERM, which runs every queued job before the exit.
refused_then_crash() {
	server_start --gate --work-ms 0 --workers 1 --queue 1 --journal "$JOURNAL" "$@"
	if ! "$HCLIENT" post "$PORT" --size 100 --seed 1 >"$BATS_TEST_TMPDIR/sent" ||
		! "$HCLIENT" post "$PORT" --size 200 --seed 2 >>"$BATS_TEST_TMPDIR/sent"; then
		fail "jobs 1 and 2 should get a 202 (--workers 1 --queue 1)"
	fi
	"$HCLIENT" post "$PORT" --size 300 --seed 3 --expect 503 >/dev/null ||
		fail "with job 1 at the worker and job 2 queued, job 3 should get a 503 (--workers 1 --queue 1)"
	server_kill9
	restart_and_finish 2 "$@"
	! grep -q '^3 ' "$JOB_LOG" ||
		fail "job 3 was refused with 503, yet it ran after the restart:" "$(cat "$JOB_LOG")" \
			"a job refused after its record was written needs its done record too" \
			"(journal_append_done()), or the replay runs a job whose client was told 503"
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "07: a job refused with 503 after it was journaled does not run after a crash" {
	refused_then_crash
}

@test "07: --commit group: a job refused with 503 after it was journaled does not run after a crash" {
	refused_then_crash --commit group
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

@test "07: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202 --journal "$JOURNAL"
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
	restart_and_finish 20 --workers 2 --queue 4 --work-ms 2 --commit group
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after SIGTERM the restarted server $(describe_exit "$SERVER_STATUS")"
}

@test "07: --commit group: strace: each 202 goes out after its record is fsync()ed, each done record after its log line" {
	assert_durable_order --commit group
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
