#!/usr/bin/env bats
# Lesson 05 - graceful shutdown: SIGTERM or SIGINT stops accepting, every accepted job still
# runs and is logged exactly once, the workers are joined, everything is freed, exit status 0.
# Runs against solutions/05-graceful-shutdown, or $SERVER (make check L=05 sets it to yours).

load helpers
load contract

setup() {
	use_server 05-graceful-shutdown
}

# True while the server's listening socket exists: /proc/net/tcp lists it as 127.0.0.1:PORT in
# state 0A (LISTEN). Looking does not connect. A test connection would itself be "the next
# client", and would wake a server whose accept loop looks for a stop only between clients.
listening() {
	local hex
	printf -v hex '%04X' "$PORT"
	grep -q "^ *[0-9]*: 0100007F:$hex [0-9A-F]*:[0-9A-F]* 0A " /proc/net/tcp
}

# True while process $1's main thread, the accept loop, sleeps in accept(): then only a client
# can wake it, never a stop. A lesson 05 server waits in poll(), for a client or a stop, and
# calls accept() only once a client is there. Linux names the kernel function a thread sleeps
# in (wchan); on a kernel that does not, this is never true and the bound below decides.
asleep_in_accept() {
	[[ $(cat "/proc/$1/wchan" 2>/dev/null) == inet_csk_accept ]]
}

# Waits until the server has closed its listening socket after SIG$1, without connecting to it:
# at most 3 s (10 s under valgrind, which is slow to deliver a signal), and not at all once the
# accept loop is seen asleep in accept(). The close is the first thing a stop does, within
# microseconds of the signal. Returns at once if the server has died; its status says why.
wait_until_not_listening() {
	local limit=3 deadline server
	[[ -z ${VALGRIND_TOOL-} ]] || limit=10
	deadline=$((SECONDS + limit))
	server=$(pgrep -P "$SERVER_PID") || return 0 # exited already
	while listening; do
		server_alive || return 0
		if asleep_in_accept "$server"; then
			fail "after SIG$1 the accept loop sleeps in accept(), where only the next client can" \
				"wake it: the stop waits for a client that may never come. The loop must wait in" \
				"poll() for a client or a byte in the self-pipe, whichever comes first: the" \
				"handler writes to stop_pipe[1], and srv->stop_fd = stop_pipe[0] tells" \
				"net_accept() to watch it." "its stderr:" "$(cat "$SERVER_ERR")"
			return 1
		fi
		if ((SECONDS >= deadline)); then
			fail "$limit s after SIG$1 the server still listens, with no client to wake it: the stop" \
				"never reached the accept loop. The handler must write a byte to the self-pipe," \
				"and srv->stop_fd = stop_pipe[0] must tell net_accept() to watch its read end." \
				"its stderr:" "$(cat "$SERVER_ERR")"
			return 1
		fi
		sleep 0.01
	done
}

# stop_with_jobs_queued SIGNAL COUNT [server options...]: COUNT jobs are accepted and held at
# the gate - 4 of them popped by the workers, the rest still queued - when SIGNAL arrives. Only
# then does the gate open. The server must run every one of them and exit 0 by itself.
stop_with_jobs_queued() {
	local signal=$1 count=$2
	shift 2
	server_start "$@" --gate --work-ms 0 --workers 4 --queue 60
	"$HCLIENT" load "$PORT" "$count" 51 --parallel 8 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/load" ||
		fail "sending $count jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")"
	grep -q "^$count accepted" "$BATS_TEST_TMPDIR/load" ||
		fail "all $count jobs should have been accepted:" "$(cat "$BATS_TEST_TMPDIR/load")"
	server_signal "$signal"
	# Only once the server has stopped accepting may the jobs run: all of them are still held
	# at the gate, so a server that drops queued jobs when it stops cannot pass.
	wait_until_not_listening "$signal"
	gate_release "$count"
	server_wait
}

# Fails unless the server, stopped by SIG$1, exited 0; says why otherwise, with its stderr
# (where the tests' signal-safety check names an unsafe call in the handler).
assert_stopped_cleanly() {
	((SERVER_STATUS == 0)) && return 0
	fail "after SIG$1 the server $(describe_exit "$SERVER_STATUS"); it should exit 0" \
		"its stderr:" "$(cat "$SERVER_ERR")"
}

# Fails unless, after a stop by SIG$1, every job the clients sent is in the log exactly once.
assert_every_job_ran() {
	local sent logged
	sent=$(wc -l <"$BATS_TEST_TMPDIR/sent")
	logged=$(logged_jobs | wc -l)
	((logged >= sent)) || fail "after SIG$1 only $logged of the $sent jobs answered 202 ran: each 202 promised" \
		"its job. The stop must close the queue, let the workers drain it, and join them" \
		"before the server exits: the handler must not end the process, the stop must not" \
		"drop queued jobs, and main() must not return while a worker still has work."
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

# The descriptors memcheck's --track-fds listing (file $1) shows open at exit, apart from the
# inherited ones and the job log and gate, which the core keeps open for the whole run. One
# block each, through tests/tools/vgfilter.
leaked_fds() {
	awk '{ sub(/^==[0-9]+== ?/, "") }
	/^Open / { block = $0; open = 1; next }
	open && /^$/ { if (block !~ /inherited from parent|job_setup|gate_setup/) print block "\n"; open = 0; next }
	open { block = block "\n" $0 }' "$1" | "$KIT/tests/tools/vgfilter"
}

# The valgrind log $1 without its --track-fds listing.
without_fd_listing() {
	awk '{ line = $0; sub(/^==[0-9]+== ?/, "", line) }
	line ~ /^FILE DESCRIPTORS: / { fds = 1; next }
	fds && line ~ /^(Open |   (at|by) |   <inherited|$)/ { next }
	{ fds = 0; print }' "$1"
}

@test "05: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
}

@test "05: SIGTERM with 55 jobs queued or running: every 202'd job is logged once, exit 0" {
	stop_with_jobs_queued TERM 55
	assert_stopped_cleanly TERM
	assert_every_job_ran TERM
}

@test "05: SIGINT stops it the same way" {
	stop_with_jobs_queued INT 10
	assert_stopped_cleanly INT
	assert_every_job_ran INT
}

@test "05: an idle server exits 0 at once on SIGTERM" {
	server_start --work-ms 0
	server_signal TERM
	wait_until_not_listening TERM
	server_wait
	assert_stopped_cleanly TERM
}

@test "05: each job logs the bytes its own client sent, after the buffer was reused" {
	two_clients_at_the_gate --workers 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after its 3 clients (--max-clients 3) the server $(describe_exit "$SERVER_STATUS")"
}

@test "05: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202
}

@test "05: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests
}

@test "05: survives clients that hang up early" {
	contract_rude_clients 202
}

@test "05: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202
}

@test "05: memcheck: SIGTERM with jobs queued - no errors, and nothing leaks" {
	# --track-fds: the pipe and every socket must be closed too (valgrind reads VALGRIND_OPTS).
	VALGRIND_OPTS="${VALGRIND_OPTS-} --track-fds=yes" stop_with_jobs_queued TERM 12 --valgrind memcheck
	assert_every_job_ran TERM
	local fds
	fds=$(leaked_fds "$VALGRIND_LOG")
	[[ -z $fds ]] || fail "memcheck: at exit the server still had descriptors open that it opened itself:" \
		"$fds" "everything is freed at a stop, descriptors too: stop_server() closes both ends" \
		"of the self-pipe, after the workers are joined."
	without_fd_listing "$VALGRIND_LOG" >"$VALGRIND_LOG.nofds"
	VALGRIND_LOG=$VALGRIND_LOG.nofds assert_valgrind_clean
}

@test "05: helgrind: no data race while the server shuts down" {
	stop_with_jobs_queued TERM 12 --valgrind helgrind
	assert_every_job_ran TERM
	assert_valgrind_clean
}

@test "05: DRD: no data race while the server shuts down" {
	stop_with_jobs_queued TERM 12 --valgrind drd
	assert_every_job_ran TERM
	assert_valgrind_clean
}
