# tests/contract.bash - the checks every server must pass, whatever its lesson
# (docs/contract.md). Each lesson's test file calls them from its own @test lines.
# shellcheck shell=bash disable=SC2154 # bats' run sets $output and $stderr

# A bad option: exit status 2 and exactly one line, a usage message, on stderr.
contract_command_line() {
	run -2 --separate-stderr timeout 5 "$SERVER" --port nope
	[[ $stderr == *usage:* && $stderr != *$'\n'* ]] ||
		fail "a bad option should print one line containing 'usage:' on stderr; it printed:" "$stderr"
	run -2 --separate-stderr timeout 5 "$SERVER" --frobnicate 1
	run -0 timeout 5 "$SERVER" --help
	[[ $output == *--port* ]] || fail "--help should list the options; it printed:" "$output"
	server_start
	[[ $PORT -gt 0 ]]
}

# Sends 20 jobs with random bodies and checks that the log holds each exactly once.
# $1: the status the lesson answers with (200 or 202); then server options, if any.
contract_random_jobs() {
	local seed=${SEED:-$RANDOM}
	# shellcheck disable=SC2034 # rerun_hint (helpers.bash) reads it
	RERUN_SEED=$seed
	echo "random bodies from seed $seed"
	server_start --work-ms 0 "${@:2}"
	"$HCLIENT" jobs "$PORT" 20 "$seed" --expect "$1" --max-size 20000 >"$BATS_TEST_TMPDIR/sent" ||
		fail "with seed $seed, a job request failed (see above)"
	wait_for_log_lines 20
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	run -0 cut -d' ' -f1 "$JOB_LOG"
	[[ $(sort -n <<<"$output" | uniq | wc -l) == 20 ]] ||
		fail "job ids must be unique; the log's ids are:" "$output"
}

# Malformed, unknown and oversized requests each get their proper status. [server options...]
contract_bad_requests() {
	local big
	big=$(head -c 9000 /dev/zero | tr '\0' a)
	server_start --timeout-ms 300 "$@"
	assert_status "$(raw_request 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n')" 404 \
		"reproduce: curl -si http://127.0.0.1:PORT/nope"
	local r
	r=$(raw_request 'GET /jobs HTTP/1.1\r\nHost: x\r\n\r\n')
	assert_status "$r" 405 "reproduce: curl -si http://127.0.0.1:PORT/jobs"
	[[ $r == *$'\r\nAllow: POST\r\n'* ]] || fail "a 405 must say which methods are allowed (Allow: POST):" "$r"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nHost: x\r\n\r\n')" 411 \
		"reproduce: curl -si -X POST http://127.0.0.1:PORT/jobs  (no body, so no Content-Length)"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n')" 413 \
		"reproduce: head -c 2000000 /dev/zero | curl -si --data-binary @- http://127.0.0.1:PORT/jobs"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nX-Big: %s\r\n\r\n' "$big")" 431 \
		"reproduce: curl -si -H \"X-Big: \$(printf '%9000s' '' | tr ' ' a)\" -d x http://127.0.0.1:PORT/jobs"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nContent-Length: 1x\r\n\r\n')" 400 \
		"reproduce: curl -si -H 'Content-Length: 1x' -d x http://127.0.0.1:PORT/jobs"
	assert_status "$(raw_request 'NONSENSE\r\n\r\n')" 400 "reproduce: printf 'NONSENSE\\r\\n\\r\\n' | nc 127.0.0.1 PORT"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')" 501 \
		"reproduce: curl -si -H 'Transfer-Encoding: chunked' -d x http://127.0.0.1:PORT/jobs"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nContent-Length: 10\r\n\r\nhalf')" 408 \
		"a request that stops half-way must get 408 once --timeout-ms passes"
	[[ ! -s $JOB_LOG ]] || fail "no bad request may start a job; the log has:" "$(cat "$JOB_LOG")"
}

# Clients that vanish, reset or dawdle never take the server down.
# $1: the status the lesson answers with (200 or 202); then server options, if any.
contract_rude_clients() {
	local fd
	server_start --work-ms 0 --timeout-ms 300 "${@:2}"
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" # connects and says nothing
	exec {fd}<&-
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" # half a head, then gone
	printf 'POST /jobs HTTP/1.1\r\nContent-' >&"$fd"
	exec {fd}<&-
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" # a whole request, but gone before the answer
	printf 'POST /jobs HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc' >&"$fd"
	exec {fd}<&-
	run -0 curl -s -o /dev/null -w '%{http_code}' --max-time 10 --data-binary 'still here' \
		"http://127.0.0.1:$PORT/jobs"
	[[ $output == "$1" ]] || fail "after rude clients the server should still answer $1, it answered '$output'" \
		"its stderr:" "$(cat "$SERVER_ERR")"
}

# Runs a few good and bad requests under a valgrind tool; the server exits by itself after
# them (--max-clients), and valgrind must have nothing to say. $1: tool, $2: good status.
contract_valgrind_basic() {
	server_start --valgrind "$1" --work-ms 0 --max-clients 5
	"$HCLIENT" jobs "$PORT" 3 7 --expect "$2" >/dev/null
	raw_request 'GET /nope HTTP/1.1\r\n\r\n' >/dev/null
	raw_request 'POST /jobs HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n' >/dev/null
	assert_valgrind_clean
}

# Two clients, A then B, while both jobs wait at the gate. When B's 202 arrives, the accept loop
# has already reused the request buffer (and, after A's close, A's socket number) for B. Only
# then may the jobs run: each must still log exactly the bytes its own client sent. A third
# client, with no job, lets the server reach --max-clients and exit by itself - after the jobs
# ran, so the accept loop is waiting in accept() while they read their input.
two_clients_at_the_gate() {
	local timeout=1000
	[[ ${1-} == --valgrind ]] && timeout=10000
	server_start "$@" --gate --work-ms 0 --max-clients 3
	"$HCLIENT" post "$PORT" --size 300 --seed 11 --timeout-ms "$timeout" >"$BATS_TEST_TMPDIR/sent" ||
		client_failed $? "client A got no 202 while its job waited at the gate" || return 1
	"$HCLIENT" post "$PORT" --size 200 --seed 22 --timeout-ms "$timeout" >>"$BATS_TEST_TMPDIR/sent" 3>&- &
	local b_pid=$!
	CLIENT_PIDS+=("$b_pid")
	if until_served client_done "$b_pid"; then
		wait "$b_pid" || client_failed $? "client B got no 202 while A's job waited at the gate:" \
			"the accept loop must hand the job to a thread and go back to accept()" || return 1
	else
		fail "client B got no 202 while A's job waited at the gate: the accept loop itself waits" \
			"at the gate - it runs the job instead of handing it to a thread and going back to" \
			"accept()" || return 1
	fi
	gate_release 2
	wait_for_log_lines 2 || return 1
	# The third client; a server that died meanwhile is judged by the caller's checks.
	if server_alive; then
		raw_request 'GET /nope HTTP/1.1\r\n\r\n' >/dev/null || true
	fi
	server_wait
}

# A job must not write to or close its client's socket: after the accept loop closed it,
# accept() hands the same number to the next client. Client B pauses after its head ("100
# Continue"), holding the accept loop on B's socket - under the number A's socket had - while
# A's job runs; then B sends its body and must get its own 202. [server options...]
contract_job_leaves_sockets_alone() {
	server_start "$@" --gate --work-ms 0 --max-clients 2
	"$HCLIENT" post "$PORT" --size 100 --seed 5 --timeout-ms 3000 >"$BATS_TEST_TMPDIR/sent"
	mkfifo "$BATS_TEST_TMPDIR/hold"
	"$HCLIENT" post "$PORT" --size 100 --seed 6 --continue --hold "$BATS_TEST_TMPDIR/hold" \
		--timeout-ms 3000 >"$BATS_TEST_TMPDIR/b.out" 2>"$BATS_TEST_TMPDIR/b.err" 3>&- &
	local b_pid=$!
	CLIENT_PIDS+=("$b_pid")
	# B prints its body's "<length> <checksum>", then "continue" once the 100 Continue came.
	until_served grep -qx continue "$BATS_TEST_TMPDIR/b.out" ||
		fail "client B never got its '100 Continue' after its head: is the accept loop still busy" \
			"with client A's job (held at the gate)? It must hand the job off and read the next request." || return 1
	head -n 1 "$BATS_TEST_TMPDIR/b.out" >>"$BATS_TEST_TMPDIR/sent"
	gate_release
	wait_for_log_lines 1
	# shellcheck disable=SC2016 # $1 is the inner shell's
	timeout 5 bash -c 'echo go >"$1"' _ "$BATS_TEST_TMPDIR/hold"
	wait "$b_pid" || fail "client B, who connected after A's 202, did not get its own 202:" \
		"$(cat "$BATS_TEST_TMPDIR/b.err")" \
		"a job must never write to or close its client's socket: the number may be someone else's"
	gate_release
	server_wait
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

# Like raw_request, but the request leaves in one write(), so that it arrives in one piece:
# bash's printf writes line by line. [printf format and arguments]
request_in_one_write() {
	local fd status=0
	# shellcheck disable=SC2059 # the format is the caller's
	printf "$@" >"$BATS_TEST_TMPDIR/request"
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || {
		fail "could not connect to the server on port $PORT: is it still running?"
		return 1
	}
	cat "$BATS_TEST_TMPDIR/request" >&"$fd"
	timeout 10 cat <&"$fd" || status=$?
	exec {fd}<&-
	((status != 124)) || fail "the server answered, but had not closed the connection after 10 s"
	return "$status"
}

# The core's limits at their edges, each checked by its answer, not by luck: a body of exactly
# REQUEST_BODY_MAX (1 MiB) and a head of exactly REQUEST_HEAD_MAX (8 KiB) are accepted and their
# jobs logged; one byte more gets 413 and 431. A signed Content-Length ("-1", "+5") gets 400,
# although strtoull() would take the sign. And bytes that arrive past the body in the same read
# as the head (here a second, pipelined request) are not the job's: it logs exactly
# Content-Length bytes. $1: the status the lesson answers with (200 or 202); then server options.
contract_limits() {
	local pad head
	server_start --work-ms 0 "${@:2}"
	"$HCLIENT" post "$PORT" --size 1048576 --seed 8 --expect "$1" >"$BATS_TEST_TMPDIR/sent" ||
		fail "a body of exactly 1048576 bytes (REQUEST_BODY_MAX) must be accepted with $1"
	"$HCLIENT" post "$PORT" --size 0 --content-length 1048577 --expect 413 >/dev/null ||
		fail "a Content-Length of 1048577, one byte over REQUEST_BODY_MAX, must get 413"
	# The fixed part of the head is 51 bytes; X-Pad fills it to exactly 8192, then one body byte.
	pad=$(head -c 8141 /dev/zero | tr '\0' a)
	head=$'POST /jobs HTTP/1.1\r\nContent-Length: 1\r\nX-Pad: '"$pad"$'\r\n\r\n'
	((${#head} == 8192)) || fail "contract_limits built a head of ${#head} bytes, not 8192"
	assert_status "$(raw_request '%sx' "$head")" "$1" \
		"a head of exactly 8192 bytes (REQUEST_HEAD_MAX, blank line included) must be accepted"
	echo "1 $(printf x | "$HCLIENT" fnv1a)" >>"$BATS_TEST_TMPDIR/sent"
	assert_status "$(raw_request '%sx' "${head/X-Pad: /X-Pad: a}")" 431 \
		"a head of 8193 bytes, one over REQUEST_HEAD_MAX, must get 431"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nContent-Length: -1\r\n\r\n')" 400 \
		"Content-Length: -1 must get 400: a length is digits only (strtoull() would take the sign)"
	assert_status "$(raw_request 'POST /jobs HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello')" 400 \
		"Content-Length: +5 must get 400: a length is digits only (strtoull() would take the sign)"
	# Head, body and a pipelined second request in one write: the server reads them in one go.
	assert_status "$(request_in_one_write 'POST /jobs HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /jobs HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc')" "$1" \
		"reproduce: printf 'POST /jobs HTTP/1.1\\r\\nContent-Length: 5\\r\\n\\r\\nhelloMORE' | nc 127.0.0.1 PORT"
	echo "5 $(printf hello | "$HCLIENT" fnv1a)" >>"$BATS_TEST_TMPDIR/sent"
	wait_for_log_lines 3 || return 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent" ||
		fail "each job must log exactly its Content-Length bytes: not one byte fewer, and none" \
			"of the bytes that came after them (in the same read as the head)"
}

# The server's own process (timeout's child; env and valgrind exec the server itself), if Linux
# lets us see where its threads wait (/proc/PID/task/TID/syscall).
server_process() {
	local pid
	pid=$(pgrep -P "$SERVER_PID") || fail "the server is not running" || return 1
	[[ -r /proc/$pid/syscall ]] && read -r _ <"/proc/$pid/syscall" 2>/dev/null ||
		fail "this test reads /proc/$pid/syscall to see where the server waits, and cannot:" \
			"it needs Linux, with the right to trace your own processes" || return 1
	echo "$pid"
}

# The server's descriptor for its gate, in hex as /proc/PID/task/TID/syscall shows arguments.
gate_descriptor() {
	local fd gate=
	for fd in "/proc/$1/fd/"*; do
		[[ $(readlink "$fd") == "$BATS_TEST_TMPDIR/gate" ]] && printf -v gate '%#x' "${fd##*/}"
	done
	[[ -n $gate ]] || fail "the server does not hold its gate open (--gate PATH): did it call gate_setup()?" || return 1
	echo "$gate"
}

# True if the accept loop itself - the server's main thread - sleeps reading the gate: it runs
# the job instead of handing it off, and no client can be served until the gate opens.
accept_loop_at_gate() {
	local pid gate call
	pid=$(pgrep -P "$SERVER_PID") && gate=$(gate_descriptor "$pid" 2>/dev/null) &&
		read -r -a call <"/proc/$pid/task/$pid/syscall" 2>/dev/null && [[ ${call[1]-} == "$gate" ]]
}

# until_served COMMAND...: polls COMMAND (every 10 ms, at most 10 s) until it succeeds - a
# client has its answer - and returns 0. Returns 1 at once if the accept loop is found holding a
# job at the gate: then no answer can come until the test opens it, and waiting out the client's
# bound would only make a failing check slow. 1 also after 10 s.
until_served() {
	local deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		"$@" && return 0
		accept_loop_at_gate && return 1
		sleep 0.01
	done
	return 1
}

# Whether background client $1 has ended (its exit status is read with wait).
client_done() {
	! kill -0 "$1" 2>/dev/null
}

# wait_at_gate [CLIENT_PID]: waits, at most 10 s, until a thread of the server is blocked reading
# its gate (server_start --gate): the job is held there, and has not run. Linux shows where a
# thread waits in /proc/PID/task/TID/syscall: the call's number, then its arguments, the first of
# which is the gate's descriptor. Fails at once, in words, if the job log gains a line first (the
# job ran without waiting at the gate), or if the client CLIENT_PID ends first (it got its answer
# before the job had run: lesson 01 answers only after the job).
wait_at_gate() {
	local pid gate task call deadline=$((SECONDS + 10))
	pid=$(server_process) || return 1
	gate=$(gate_descriptor "$pid") || return 1
	while ((SECONDS < deadline)); do
		for task in "/proc/$pid/task/"*/syscall; do
			read -r -a call <"$task" 2>/dev/null || continue
			[[ ${call[1]-} == "$gate" ]] && return 0
		done
		if [[ -s $JOB_LOG ]]; then
			fail "the job ran before the test let it past the gate; the log has:" "$(cat "$JOB_LOG")" \
				"call gate_pass() just before the job reads its input: the test holds it there"
			return 1
		fi
		if [[ -n ${1-} ]] && ! kill -0 "$1" 2>/dev/null; then
			fail "the client was done before its job went through the gate: the answer must wait" \
				"until the job has run (gate_pass(), then job_run(), then the answer)"
			return 1
		fi
		if ! server_alive; then
			server_wait
			fail "the server $(describe_exit "$SERVER_STATUS") before its job reached the gate;" \
				"its stderr:" "$(cat "$SERVER_ERR")"
			return 1
		fi
		sleep 0.01
	done
	fail "waited 10 s for the job to stop at the gate (gate_pass()); it did not"
}

# Waits, at most 10 s, until every thread of the server sleeps in a system call: it has done all
# it can and waits for something from outside (a client's bytes, a connection, the gate). Linux
# shows it in /proc/PID/task/TID/syscall: "running", or the number of the call it sleeps in.
wait_until_blocked() {
	local pid task call busy deadline=$((SECONDS + 10))
	pid=$(server_process) || return 1
	while ((SECONDS < deadline)); do
		if ! server_alive; then
			server_wait
			fail "the server $(describe_exit "$SERVER_STATUS");" "its stderr:" "$(cat "$SERVER_ERR")"
			return 1
		fi
		busy=
		for task in "/proc/$pid/task/"*/syscall; do
			read -r -a call <"$task" 2>/dev/null && [[ ${call[0]} =~ ^[0-9]+$ ]] || busy=1
		done
		[[ -n $busy ]] || return 0
		sleep 0.01
	done
	fail "waited 10 s for the server to wait for something; it kept running"
}

# assert_lingering_close STATUS FORMAT [ARGS...]: sends one raw request (printf FORMAT ARGS),
# reads its answer up to the server's FIN, and then, once the server waits again, sends 1 MB
# more, as a client that sends all it has before it looks at the answer would. A server that
# closes properly (conn_close_lingering()) reads and discards those bytes until the client
# closes its side; one that has already closed the socket answers them with a reset, and a
# client that was still sending loses the connection and, often, the answer with it.
assert_lingering_close() {
	local fd response status=$1 sent=0
	shift
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	# shellcheck disable=SC2059 # the format is the caller's
	printf "$@" >&"$fd"
	response=$(timeout 10 cat <&"$fd")
	if assert_status "$response" "$status" "the request was: $1" &&
		wait_until_blocked; then
		# SIGPIPE ignored: a write to a reset connection then fails with EPIPE, and says so.
		(
			trap '' PIPE
			timeout 10 head -c 1000000 /dev/zero >&"$fd"
		) 2>/dev/null || sent=1
		((sent == 0)) || fail "after its $status the server closed the connection while the client was still sending:" \
			"the client's next bytes were answered with a reset. Close with conn_close_lingering():" \
			"shutdown(SHUT_WR), then read and discard until the client closes (EOF), then close()"
	else
		sent=1
	fi
	exec {fd}<&-
	((sent == 0))
}

# ---- From lesson 08 on: threads of the server, and clients that signal where they are ----

# How many threads of the server are named $1 (pthread_setname_np(); Linux shows the name in
# /proc/PID/task/TID/comm). The server's own process is timeout's child, as in server_process.
server_threads_named() {
	local pid task name count=0
	pid=$(pgrep -P "$SERVER_PID") || fail "the server is not running" || return 1
	for task in "/proc/$pid/task/"*/comm; do
		read -r name <"$task" 2>/dev/null && [[ $name == "$1" ]] && count=$((count + 1))
	done
	echo "$count"
}

# wait_for_threads NAME COUNT: waits, at most 10 s, until exactly COUNT threads of the server are
# named NAME. Polls: a thread that ends tells nobody. Fails at once if the server dies.
wait_for_threads() {
	local count deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		if ! server_alive; then
			server_wait
			fail "the server $(describe_exit "$SERVER_STATUS") while the test waited for $2" \
				"thread(s) named '$1';" "its stderr:" "$(cat "$SERVER_ERR")"
			return 1
		fi
		count=$(server_threads_named "$1") || return 1
		((count == $2)) && return 0
		sleep 0.01
	done
	fail "waited 10 s for the server to have $2 thread(s) named '$1'; it has $count." \
		"A connection's thread is named with thread_start_detached(..., \"$1\"), and ends once" \
		"its client's connection is closed."
}

# wait_for_output FILE LINE [CLIENT_PID]: waits, at most 10 s, until FILE holds the line LINE:
# a client in the background says that it has reached a point of its run (hclient prints
# "holding N", "held", "answered"). Fails at once if the client CLIENT_PID ends first.
wait_for_output() {
	local deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		grep -qxF "$2" "$1" 2>/dev/null && return 0
		if [[ -n ${3-} ]] && ! kill -0 "$3" 2>/dev/null; then
			grep -qxF "$2" "$1" 2>/dev/null && return 0
			fail "the client ended before it printed '$2'; it printed:" "$(cat "$1" 2>/dev/null)"
			return 1
		fi
		sleep 0.01
	done
	fail "waited 10 s for a client to print '$2'; it printed:" "$(cat "$1" 2>/dev/null)"
}

# server_exits_within SECONDS: waits, at most SECONDS, for the server to exit, and sets
# SERVER_STATUS as server_wait does. Returns 1 if it still runs then; the caller says why.
server_exits_within() {
	local deadline=$((SECONDS + $1))
	while server_alive; do
		((SECONDS < deadline)) || return 1
		sleep 0.01
	done
	server_wait
}
