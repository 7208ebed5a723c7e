# tests/durable.bash - crashes and restarts for the lessons that keep lesson 07's promise (07 on):
# a job is in the journal, on disk, before its 202, and after kill -9 and a restart every job that
# got a 202 is in the job log exactly once. The test file's setup sets JOURNAL, the journal's path
# in the test's directory.
# shellcheck shell=bash disable=SC2154 # the test file's setup sets JOURNAL

# Waits, at most 1 s, until the journal holds a done record for every job in the job log. A
# worker writes it right after the log line, so the wait is short; it makes the crash that
# follows land after the done records every run, not only most runs. A server that writes no
# done records is judged by what the test checks after the crash.
wait_for_done_records() {
	local id rest deadline=$((${EPOCHREALTIME/./} + 1000000))
	[[ -s $JOURNAL ]] || return 0
	while read -r id rest; do
		until grep -aqx "D $id" "$JOURNAL"; do
			((${EPOCHREALTIME/./} < deadline)) || return 0
			sleep 0.01
		done
	done <"$JOB_LOG"
}

# crash_after COUNT DONE [server options...]: COUNT jobs accepted and held at the gate, DONE of
# them let through, logged and marked done, then kill -9. The journal now holds COUNT jobs, DONE
# of them finished.
crash_after() {
	server_start --gate --work-ms 0 --workers 2 --queue 60 --journal "$JOURNAL" "${@:3}"
	"$HCLIENT" load "$PORT" "$1" 71 --parallel 4 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		fail "sending $1 jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")"
	grep -q "^$1 accepted" "$BATS_TEST_TMPDIR/load" ||
		fail "all $1 jobs should have been accepted:" "$(cat "$BATS_TEST_TMPDIR/load")"
	gate_release "$2"
	wait_for_log_lines "$2"
	wait_for_done_records
	server_kill9
}

# restart_and_finish COUNT [server options...]: restarts on the same journal and job log and
# stops the server with SIGTERM at once. The replay queues every unfinished job before the
# readiness line, and a stop runs every queued job before the exit (lesson 05), so the log must
# then have COUNT lines - and a server that replays nothing fails now, not after a long wait.
restart_and_finish() {
	local count=$1 lines
	shift
	server_start --work-ms 0 --journal "$JOURNAL" "$@"
	server_signal TERM
	server_wait
	lines=0
	[[ ! -f $JOB_LOG ]] || lines=$(wc -l <"$JOB_LOG")
	((lines >= count)) && return 0
	fail "after the restart and SIGTERM the job log has $lines line(s), not $count: the journal's" \
		"unfinished jobs did not run (the restarted server $(describe_exit "$SERVER_STATUS"))." \
		"The replay must queue every journaled job that is not done (pool_push_wait())" \
		"before the readiness line; a stop runs every queued job before the exit." \
		"the job log:" "$(cat "$JOB_LOG" 2>/dev/null)"
}

# The order of one job's system calls, read from an strace -f trace (server_start --strace):
# for every 202 sent, the job's record written to the journal, then an fsync() or fdatasync() of
# the journal that began after that write and returned before the 202's send began; and the done
# record of every 202'd job, written after the job's log line. strace writes a call as one line,
# or as "<unfinished ...>" and a later "<... NAME resumed>" line when another thread's call came
# in between, and its lines are in time order. Prints one line per broken rule.
# shellcheck disable=SC2016 # an awk program: its $ are awk's
TRACE_ORDER='
function finish(k, line, result, w, id) {
	result = line
	sub(/.*\) += /, "", result)
	if (result !~ /^[0-9]/)
		return # a failed call proves nothing
	if (name[k] == "write" && data[k] ~ /^J [0-9]+ [0-9]+\\n/) {
		split(data[k], w, " ")
		if (!(w[2] in written)) written[w[2]] = NR
		journal = fd[k]
	} else if (name[k] ~ /^(write|writev|sendto|sendmsg)$/ && data[k] ~ /^HTTP\/1\.1 202 / &&
	    match(data[k], /Location: \/jobs\/[0-9]+/)) {
		id = substr(data[k], RSTART + 16, RLENGTH - 16)
		if (!(id in sent)) sent[id] = k
	} else if (name[k] == "write" && data[k] ~ /^D [0-9]+\\n/) {
		id = substr(data[k], 3)
		sub(/\\n.*/, "", id)
		if (!(id in done)) done[id] = k
	} else if (name[k] == "write" && data[k] ~ /^[0-9]+ [0-9]+ [0-9a-f]+\\n/) {
		split(data[k], w, " ")
		if (!(w[1] in logged)) logged[w[1]] = NR
	} else if (name[k] == "fsync" || name[k] == "fdatasync") {
		syncs++
		sync_fd[syncs] = fd[k]
		sync_began[syncs] = k
		sync_returned[syncs] = NR
	}
}
{
	call = $0
	sub(/^[0-9]+ +/, "", call)
	if (call ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
		if ($1 in pending)
			finish(pending[$1], call)
		delete pending[$1]
		next
	}
	if (!match(call, /^[a-z0-9_]+\(/))
		next
	name[NR] = substr(call, 1, RLENGTH - 1)
	args = substr(call, RLENGTH + 1)
	fd[NR] = args
	sub(/[^0-9].*/, "", fd[NR])
	if (match(args, /^[0-9]+, (\[\{iov_base=)?"/))
		data[NR] = substr(args, RLENGTH + 1)
	if (call ~ /<unfinished \.\.\.>$/)
		pending[$1] = NR
	else
		finish(NR, call)
}
END {
	for (id in sent)
		if (id + 0 > last) last = id + 0
	for (id = 1; id <= last; id++) {
		if (!(id in sent))
			continue
		count++
		if (!(id in written)) {
			print "job " id " got a 202, but its record (J " id " LENGTH) was never written to the journal"
			continue
		}
		if (written[id] > sent[id]) {
			print "the 202 of job " id " went out before its record was written to the journal"
			continue
		}
		for (s = 1; s <= syncs; s++)
			if (sync_fd[s] == journal && sync_began[s] > written[id] && sync_returned[s] < sent[id])
				break
		if (s > syncs) {
			print "the 202 of job " id " went out before its record was on disk (fsync)"
			unsynced = 1
		}
		if ((id in done) && (!(id in logged) || logged[id] > done[id])) {
			print "the done record of job " id " (D " id ") was written before its log line"
			early = 1
		} else if ((id in logged) && !(id in done)) {
			print "job " id " ran (its log line is in the trace), but its done record (D " id \
			    ") was never written: after a crash, the replay would have to search the job log for it"
		}
	}
	if (count != want)
		print "the trace shows " count + 0 " 202s with a Location; the clients got " want
	if (unsynced)
		print "no fsync() of the journal began after the write() of the record and returned" \
		    " before the 202 was sent. The page cache hides that from kill -9, but a power cut" \
		    " right after the 202 loses a promised job"
	if (early)
		print "a crash between the done record and the log line leaves a job marked done that" \
		    " never ran: the replay skips it, and its 202 was a broken promise"
}'

# assert_durable_order [server options...]: six jobs, three clients at a time, to a server under
# strace that stops by itself after them; then the order of their system calls (TRACE_ORDER).
assert_durable_order() {
	local trace=$BATS_TEST_TMPDIR/trace broken
	server_start --strace "$trace" --work-ms 0 --workers 2 --journal "$JOURNAL" --max-clients 6 "$@"
	"$HCLIENT" load "$PORT" 6 23 --parallel 3 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		fail "sending 6 jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")"
	grep -q '^6 accepted' "$BATS_TEST_TMPDIR/load" ||
		fail "all 6 jobs should have been accepted:" "$(cat "$BATS_TEST_TMPDIR/load")"
	server_wait
	((SERVER_STATUS == 0)) || fail "after its 6 clients (--max-clients 6) the server $(describe_exit "$SERVER_STATUS")"
	broken=$(awk -v want=6 "$TRACE_ORDER" "$trace")
	[[ -z $broken ]] || fail "$broken" "the trace (strace -f), our calls:" \
		"$(grep -E '(write|sendto|fsync|fdatasync)\(|resumed>' "$trace" | cut -c1-110)"
}

# Fails unless no job id appears twice in the job log.
assert_ids_unique() {
	local repeated
	repeated=$(cut -d' ' -f1 "$JOB_LOG" | sort -n | uniq -d)
	[[ -z $repeated ]] || fail "these job ids are in the log more than once - a job ran twice:" "$repeated" \
		"the job log:" "$(cat "$JOB_LOG")"
}
