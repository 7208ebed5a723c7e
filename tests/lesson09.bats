#!/usr/bin/env bats
# Lesson 09 - keep-alive: one connection carries many requests, one after another or pipelined
# in one write, all read into the connection's one struct request. HTTP/1.1 keeps the connection
# unless the client says "Connection: close"; HTTP/1.0 only if it asks for keep-alive. Bytes of a
# pipelined request that came with the one before are kept for it (request_next()); a connection
# idle for --idle-ms is closed without an answer; the --requests-th answer says Connection: close;
# a refusal that leaves the stream in doubt closes; at SIGTERM an idle connection is let go at
# once. Lesson 08's front door and lesson 07's durability hold.
# Runs against solutions/09-keep-alive, or $SERVER (make check L=09 sets it to yours).

load helpers
load contract
load durable

setup() {
	use_server 09-keep-alive
	JOURNAL=$BATS_TEST_TMPDIR/journal
	# contract_limits: the request pipelined behind a job is a job of its own here.
	# shellcheck disable=SC2034 # contract.bash reads it
	KEEP_ALIVE=1
}

# A client started in the background: teardown ends it if the test does not.
client_started() {
	CLIENT_PIDS+=("$1")
}

# pipeline NAME WORDS... [-- hclient pipeline's arguments]: one hclient pipeline run, its job
# lines appended to $BATS_TEST_TMPDIR/sent. On failure, hclient has said what was wrong with which
# answer; WORDS say what the server must do, and the test fails.
pipeline() {
	local words=() status=0
	while (($#)) && [[ $1 != -- ]]; do
		words+=("$1")
		shift
	done
	shift
	"$HCLIENT" pipeline "$PORT" "$@" >>"$BATS_TEST_TMPDIR/sent" || status=$?
	((status == 0)) && return 0
	fail "${words[@]}"
}

# wait_for_line_count FILE COUNT PID: waits, at most 10 s, until FILE has COUNT lines - a
# pipeline client in the background has had COUNT 202s. Fails at once if the client PID ends
# first.
wait_for_line_count() {
	local deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		[[ -f $1 ]] && (($(wc -l <"$1") >= $2)) && return 0
		if ! kill -0 "$3" 2>/dev/null; then
			[[ -f $1 ]] && (($(wc -l <"$1") >= $2)) && return 0
			fail "the client ended before its $2 answers came; it said:" "$(cat "${1%.out}.err" 2>/dev/null)"
			return 1
		fi
		sleep 0.01
	done
	fail "waited 10 s for a client's $2 answers; it has $(wc -l <"$1" 2>/dev/null || echo 0)"
}

@test "09: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
	run -2 --separate-stderr timeout 5 "$SERVER" --idle-ms 0
	run -2 --separate-stderr timeout 5 "$SERVER" --requests 0
	run -0 timeout 5 "$SERVER" --help
	[[ $output == *--idle-ms* && $output == *--requests* ]] ||
		fail "--help should list --idle-ms and --requests (OPTIONS_KEEP_ALIVE):" "$output"
}

@test "09: two jobs on one connection get two 202s, and each logs its own bytes" {
	server_start --work-ms 0 --journal "$JOURNAL"
	pipeline "two jobs on one connection, the second sent after the first one's 202: the" \
		"connection's thread must read the next request after it has answered one, until the" \
		"client closes (a loop around serve_request() in serve_client())" -- 2 11 || return 1
	wait_for_log_lines 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: pipelined in one write, every request is answered in order and every job is logged" {
	# --idle-ms 1000: a server that lost the pipelined requests waits for them that long.
	server_start --work-ms 0 --journal "$JOURNAL" --idle-ms 1000
	pipeline "12 requests in one write (9 jobs, 3 GETs that get 404), the last asking to close:" \
		"the first read brings them all, so the bytes past the first request's end are the" \
		"next requests'. request_next() keeps them at the start of the buffer, where the next" \
		"request_read_*() begins; request_clear(), or a fresh buffer (request_free()), throws" \
		"them away, and the jobs in them are lost." -- 12 12 --one-write --mixed --close || return 1
	wait_for_log_lines 9
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: a job held at the gate keeps its own bytes while the next pipelined requests fill the buffer" {
	# The four 202s come while every job waits at the gate: by then the connection has read each
	# request in turn into its one struct request; the jobs go through once it has closed, and
	# freed the request (request_free()).
	server_start --gate --work-ms 0 --journal "$JOURNAL" --max-clients 1 --idle-ms 1000
	pipeline "four jobs in one write, held at the gate, should get four 202s" -- 4 13 --one-write --close || return 1
	wait_for_threads connection 0 || return 1
	gate_release 4
	# After its one client (--max-clients 1) the server runs every accepted job, then exits.
	server_wait
	((SERVER_STATUS == 0)) || fail "after its one client (--max-clients 1) the server $(describe_exit "$SERVER_STATUS")" || return 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent" ||
		fail "the jobs ran after the next requests had been read into their connection's buffer," \
			"and logged other bytes than their clients sent: a job must keep its own copy" \
			"(job_new()), never a pointer to memory of its connection, which the next request" \
			"overwrites (req->body) and the connection frees when it closes"
}

@test "09: Connection: close is honoured - the answer says so, and no request after it is answered" {
	# --idle-ms 30000: a server that does not close at once is caught by the request sent after
	# the close, long before its idle timeout.
	server_start --work-ms 0 --journal "$JOURNAL" --idle-ms 30000
	pipeline "three jobs, the last with Connection: close: its answer must say Connection: close" \
		"and the server must close the connection after it (request_keep_alive() is 0)" -- 3 14 --close --timeout-ms 5000 || return 1
	pipeline "one job with Connection: close, alone on its connection" -- 1 15 --close --timeout-ms 5000 || return 1
	wait_for_log_lines 4
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: HTTP/1.0 closes after one answer, unless it asks for keep-alive" {
	server_start --work-ms 0 --journal "$JOURNAL" --idle-ms 30000
	pipeline "an HTTP/1.0 request without Connection: keep-alive: its answer must say" \
		"Connection: close, and the connection must end (RFC 9112 section 9.3)" -- 1 16 --http10 --close --timeout-ms 5000 || return 1
	pipeline "three HTTP/1.0 requests, the first two with Connection: Keep-Alive, in any case:" \
		"their answers must say Connection: keep-alive, the last one's close" -- 3 17 --http10 --close --timeout-ms 5000 || return 1
	wait_for_log_lines 4
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: --requests N: the Nth answer says Connection: close, and the connection ends there" {
	server_start --work-ms 0 --journal "$JOURNAL" --requests 3 --max-clients 2 --idle-ms 1000
	pipeline "with --requests 3, five jobs in one write: three answers, the third with" \
		"Connection: close, then the end of the connection; the other two are never read" -- 5 18 --one-write --closes-after 3 || return 1
	pipeline "with --requests 3, jobs one after another: the third answer must say Connection:" \
		"close, and a request after it must get no answer" -- 4 19 --closes-after 3 --timeout-ms 5000 || return 1
	server_wait
	((SERVER_STATUS == 0)) || fail "after its two clients (--max-clients 2) the server $(describe_exit "$SERVER_STATUS")" || return 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent" ||
		fail "only the three jobs answered on each connection may run"
}

@test "09: a connection idle for --idle-ms is closed without an answer" {
	# Idle 200 ms, a request's deadline 3 s, and the client waits 2.5 s: a server that waits
	# for the next request with --timeout-ms, or answers 408, misses the bound.
	server_start --work-ms 0 --journal "$JOURNAL" --idle-ms 200 --timeout-ms 3000
	pipeline "after its two answers the client sent nothing more: after --idle-ms the server" \
		"must close the connection without a word (request_wait_next() says 0), as Go and nginx" \
		"do. A 408 is for a request that has begun; this client owes the server nothing." -- 2 20 --idle --timeout-ms 2500 || return 1
	wait_for_log_lines 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: SIGTERM with idle keep-alive connections exits 0 at once and loses no job" {
	local i pids=()
	# --idle-ms 60000: a server that waits out its idle connections cannot pass the bound.
	server_start --work-ms 0 --journal "$JOURNAL" --idle-ms 60000
	for i in 1 2 3; do
		"$HCLIENT" pipeline "$PORT" 2 $((30 + i)) --idle --timeout-ms 20000 \
			>"$BATS_TEST_TMPDIR/idle$i.out" 2>"$BATS_TEST_TMPDIR/idle$i.err" 3>&- &
		pids+=($!)
		client_started "$!"
	done
	for i in 1 2 3; do
		wait_for_line_count "$BATS_TEST_TMPDIR/idle$i.out" 2 "${pids[i - 1]}" || return 1
	done
	# Every thread waits: each connection's for its next request, the workers for a job.
	wait_until_blocked || return 1
	server_signal TERM
	server_exits_within 3 ||
		fail "3 s after SIGTERM the server still runs, with three idle keep-alive connections:" \
			"between two requests a connection waits for the next one or a stop, whichever" \
			"comes first (request_wait_next() watches req->stop_fd), and closes at a stop" || return 1
	((SERVER_STATUS == 0)) || fail "after SIGTERM the server $(describe_exit "$SERVER_STATUS");" \
		"its stderr:" "$(cat "$SERVER_ERR")" || return 1
	for i in 1 2 3; do
		wait "${pids[i - 1]}" || fail "idle client $i: at the stop its connection must be closed" \
			"without an answer:" "$(cat "$BATS_TEST_TMPDIR/idle$i.err")" || return 1
	done
	cat "$BATS_TEST_TMPDIR"/idle?.out >"$BATS_TEST_TMPDIR/sent"
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: a bad request on a kept-alive connection gets its status, and then the connection ends" {
	local bad want response statuses good=$'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok'
	local late=$'POST /jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 4\r\n\r\nlate'
	local cases=(
		400 $'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n'
		413 $'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n'
		501 $'POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
		417 $'POST /jobs HTTP/1.1\r\nHost: x\r\nExpect: the-moon\r\nContent-Length: 4\r\n\r\n'
		404 $'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n'
	)
	# --idle-ms 1000: a server that keeps such a connection waits that long for more.
	server_start --work-ms 0 --journal "$JOURNAL" --idle-ms 1000
	: >"$BATS_TEST_TMPDIR/sent"
	for ((i = 0; i < ${#cases[@]}; i += 2)); do
		want=${cases[i]} bad=${cases[i + 1]}
		# A job, the bad request and, behind it, a job that asks to close - in one write.
		response=$(request_in_one_write '%s%s%s' "$good" "$bad" "$late") || return 1
		echo "2 $(printf ok | "$HCLIENT" fnv1a)" >>"$BATS_TEST_TMPDIR/sent"
		statuses=$(grep -ao '^HTTP/1.1 [0-9]*' <<<"$response" | tr '\n' ' ')
		[[ $statuses == "HTTP/1.1 202 HTTP/1.1 $want " ]] ||
			fail "a job, then '${bad%%$'\r'*}' ($want), then a job, in one write: the answers must be" \
				"202, then $want, and then nothing: after this refusal the server cannot know where the" \
				"next request begins, and must close (request_keep_alive() is 0). The answers were:" \
				"${statuses:-none}" || return 1
		[[ ${response#*"HTTP/1.1 $want"} == *$'\r\nConnection: close\r\n'* ]] ||
			fail "the $want answer must say Connection: close; the answers were:" "$response" || return 1
	done
	# A 404 to a request without a body does not leave the stream in doubt: the next one is served.
	response=$(request_in_one_write '%sGET /nope HTTP/1.1\r\nHost: x\r\n\r\n%s' "$good" "$late") || return 1
	statuses=$(grep -ao '^HTTP/1.1 [0-9]*' <<<"$response" | tr '\n' ' ')
	[[ $statuses == "HTTP/1.1 202 HTTP/1.1 404 HTTP/1.1 202 " ]] ||
		fail "a job, GET /nope, a job: a 404 to a request without a body leaves nothing in doubt" \
			"(the request ended with its head), so the connection goes on; the answers were:" \
			"${statuses:-none}" || return 1
	echo "2 $(printf ok | "$HCLIENT" fnv1a)" >>"$BATS_TEST_TMPDIR/sent"
	echo "4 $(printf late | "$HCLIENT" fnv1a)" >>"$BATS_TEST_TMPDIR/sent"
	wait_for_log_lines 7
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: idle connections hold nobody: a job on another connection gets its 202 at once" {
	local fd idle
	# One connection that has sent nothing, one kept alive after its answer; --timeout-ms and
	# --idle-ms 20000, and the third client waits 3 s at most.
	server_start --work-ms 0 --journal "$JOURNAL" --timeout-ms 20000 --idle-ms 20000
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	"$HCLIENT" pipeline "$PORT" 1 41 --idle --timeout-ms 20000 >"$BATS_TEST_TMPDIR/idle.out" \
		2>"$BATS_TEST_TMPDIR/idle.err" 3>&- &
	idle=$!
	client_started "$idle"
	wait_for_line_count "$BATS_TEST_TMPDIR/idle.out" 1 "$idle" || return 1
	"$HCLIENT" post "$PORT" --size 100 --seed 42 --timeout-ms 3000 >"$BATS_TEST_TMPDIR/sent" ||
		fail "a new client got no 202 while one connection was idle before its first request and" \
			"one between two: the accept loop hands each connection to a thread of its own" \
			"(connections_hand_over()), and only that thread waits for its client" || return 1
	exec {fd}<&-
	cat "$BATS_TEST_TMPDIR/idle.out" >>"$BATS_TEST_TMPDIR/sent"
	wait_for_log_lines 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "09: kill -9 with jobs queued, restart: every 202'd job is logged exactly once" {
	crash_after 20 5
	restart_and_finish 20 --workers 2 --queue 4 --work-ms 2
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after SIGTERM the restarted server $(describe_exit "$SERVER_STATUS")"
}

@test "09: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202 --journal "$JOURNAL"
}

@test "09: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests --journal "$JOURNAL" --idle-ms 100
}

@test "09: survives clients that hang up early" {
	contract_rude_clients 202 --journal "$JOURNAL"
}

@test "09: request limits hold to the byte, signed lengths are refused, and a pipelined request is a job of its own" {
	contract_limits 202 --journal "$JOURNAL" --idle-ms 100
}

@test "09: a malformed request gets its status at once, and the unusual valid ones are jobs" {
	contract_strict_parsing --journal "$JOURNAL" --idle-ms 100
}

# keep_alive_under TOOL: three connections at once under a valgrind tool, each with four requests
# pipelined in one write (three jobs and a GET), every job held at the gate until all twelve
# answers have come; then the server stops by itself (--max-clients 3).
keep_alive_under() {
	local i pids=()
	server_start --valgrind "$1" --gate --work-ms 0 --workers 2 --journal "$JOURNAL.$1" --max-clients 3 \
		--idle-ms 1000
	for i in 1 2 3; do
		"$HCLIENT" pipeline "$PORT" 4 $((50 + i)) --one-write --mixed --close --timeout-ms 20000 \
			>"$BATS_TEST_TMPDIR/$1.$i.out" 2>"$BATS_TEST_TMPDIR/$1.$i.err" 3>&- &
		pids+=($!)
		client_started "$!"
	done
	for i in 1 2 3; do
		wait "${pids[i - 1]}" || fail "$1: connection $i did not get its four answers:" \
			"$(cat "$BATS_TEST_TMPDIR/$1.$i.err")" || return 1
	done
	# The connections have ended and freed their requests; only now do the jobs read their input.
	wait_for_threads connection 0 || return 1
	gate_release 9
	assert_valgrind_clean || return 1
	cat "$BATS_TEST_TMPDIR/$1".?.out >"$BATS_TEST_TMPDIR/sent"
	assert_log_holds "$BATS_TEST_TMPDIR/sent" || return 1
	rm -f "$JOB_LOG"
}

@test "09: memcheck: pipelined requests over several connections read no freed memory, and nothing leaks" {
	keep_alive_under memcheck
}

@test "09: helgrind and DRD: no data race between connections that pipeline and the workers" {
	keep_alive_under helgrind
	keep_alive_under drd
}
