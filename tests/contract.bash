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
	echo "random bodies from seed $seed (run again with SEED=$seed make check ...)"
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
		"reproduce: curl -si -H \"X-Big: \$(head -c 9000 /dev/zero | tr '\\\\0' a)\" -d x http://127.0.0.1:PORT/jobs"
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
		fail "client A got no 202 while its job waited at the gate"
	"$HCLIENT" post "$PORT" --size 200 --seed 22 --timeout-ms "$timeout" >>"$BATS_TEST_TMPDIR/sent" ||
		fail "client B got no 202 while A's job waited at the gate:" \
			"the accept loop must hand the job to a thread and go back to accept()"
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
	mkfifo "$BATS_TEST_TMPDIR/hold" "$BATS_TEST_TMPDIR/b.out"
	"$HCLIENT" post "$PORT" --size 100 --seed 6 --continue --hold "$BATS_TEST_TMPDIR/hold" \
		--timeout-ms 3000 >"$BATS_TEST_TMPDIR/b.out" 2>"$BATS_TEST_TMPDIR/b.err" 3>&- &
	local b_pid=$! line b_fd
	CLIENT_PIDS+=("$b_pid")
	exec {b_fd}<"$BATS_TEST_TMPDIR/b.out"
	read -r -t 10 line <&"$b_fd" && echo "$line" >>"$BATS_TEST_TMPDIR/sent"
	read -r -t 10 line <&"$b_fd" || line=
	[[ $line == continue ]] ||
		fail "client B never got its '100 Continue' after its head: is the accept loop still busy" \
			"with client A's job (held at the gate)? It must hand the job off and read the next request."
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
