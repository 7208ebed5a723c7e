#!/usr/bin/env bats
# Lesson 08 - the front door never waits: the accept loop only accepts, and hands each connection
# to a thread of its own, which owns the socket and its own request buffer. A client that sends
# slowly, sends nothing, or never closes holds up only its own thread; one connection beyond
# --connections gets 503 with Retry-After at once; at SIGTERM, the connections still waiting for
# a request are let go at once, and every accepted job still runs. Lesson 07's durability holds.
# Runs against solutions/08-front-door, or $SERVER (make check L=08 sets it to yours).

load helpers
load contract
load durable

setup() {
	use_server 08-front-door
	JOURNAL=$BATS_TEST_TMPDIR/journal
	# Where the held clients (hclient hold) and the test write one line per connection that
	# ended, "LABEL INDEX STATUS", each in one write(2) with O_APPEND: their order is the order
	# in which the endings happened.
	EVENTS=$BATS_TEST_TMPDIR/events
}

# A client started in the background: teardown ends it if the test does not.
client_started() {
	CLIENT_PIDS+=("$1")
}

# hold_clients LABEL COUNT [--trickle MS]: COUNT connections held open by one hclient in the
# background - idle, or trickling a request that never ends - each of whose endings it appends
# to $EVENTS. Returns once all COUNT are connected (and a trickling one has sent its first byte),
# with the client's pid in HELD_PID.
hold_clients() {
	local out=$BATS_TEST_TMPDIR/$1.out
	"$HCLIENT" hold "$PORT" "$2" --label "$1" --events "$EVENTS" --timeout-ms 20000 "${@:3}" \
		>"$out" 2>"$BATS_TEST_TMPDIR/$1.err" 3>&- &
	HELD_PID=$!
	client_started "$HELD_PID"
	wait_for_output "$out" "holding $2" "$HELD_PID" ||
		fail "could not open $2 connections to the server:" "$(cat "$BATS_TEST_TMPDIR/$1.err")"
}

# The lines of $EVENTS, or "(none)".
events() {
	[[ -s $EVENTS ]] && cat "$EVENTS" || echo "(none)"
}

# How many lines $EVENTS has.
event_count() {
	if [[ -f $EVENTS ]]; then
		wc -l <"$EVENTS"
	else
		echo 0
	fi
}

# wait_for_events COUNT SECONDS: waits, at most SECONDS, until $EVENTS has COUNT lines. Returns
# 1 if it has fewer then; the caller says what that means.
wait_for_events() {
	local deadline=$((SECONDS + $2))
	until (($(event_count) >= $1)); do
		((SECONDS < deadline)) || return 1
		sleep 0.01
	done
}

# Fails unless the held clients labelled $1 all ended with $2 ("408", "EOF"...); $3 says why.
assert_held_ended() {
	local wrong
	wrong=$(grep "^$1 " "$EVENTS" | grep -v " $2\$" || true)
	[[ -z $wrong ]] && return 0
	fail "every '$1' connection should have ended with $2; these did not (LABEL INDEX HOW):" \
		"$wrong" "$3" "all that happened, in order:" "$(events)"
}

@test "08: prints the readiness line; a bad option exits 2 with a one-line usage" {
	contract_command_line
	run -2 --separate-stderr timeout 5 "$SERVER" --connections 0
	run -0 timeout 5 "$SERVER" --help
	[[ $output == *--connections* ]] || fail "--help should list --connections:" "$output"
}

@test "08: a normal client's 202 comes before any idle or trickling client is timed out" {
	local normal first
	# 40 clients that take the server's time: 20 send nothing, 20 send a byte every 100 ms
	# and never finish. Each must get 408 after --timeout-ms; the normal client's 202 must come
	# long before - an order of events, not a stopwatch.
	server_start --work-ms 0 --timeout-ms 2000 --journal "$JOURNAL"
	hold_clients idle 20
	local idle=$HELD_PID
	hold_clients slow 20 --trickle 100
	local slow=$HELD_PID
	"$HCLIENT" post "$PORT" --size 100 --seed 21 >"$BATS_TEST_TMPDIR/sent" 2>"$BATS_TEST_TMPDIR/normal.err" 3>&- &
	normal=$!
	client_started "$normal"
	# The normal client's answer, or the first held client's end, whichever comes first
	# (within 10 s; the normal client itself gives up after 10 s).
	local deadline=$((SECONDS + 10))
	until client_done "$normal" || [[ -s $EVENTS ]] || ((SECONDS >= deadline)); do
		sleep 0.01
	done
	if ! client_done "$normal" && [[ ! -s $EVENTS ]]; then
		fail "in 10 s, the normal client got no 202, and no held client was answered" || return 1
	fi
	if ! client_done "$normal"; then
		first=$(head -n 1 "$EVENTS")
		fail "a held client's connection ended ('$first': LABEL INDEX STATUS) while the normal" \
			"client still waited for its 202. The accept loop waited for the slow clients' requests" \
			"(up to --timeout-ms each) before it got to the normal one: it must only accept, and" \
			"hand each connection to a thread of its own (thread_start_detached()), which reads" \
			"the request while the accept loop goes back to accept()." || return 1
	fi
	wait "$normal" || fail "the normal client got no 202 while 40 slow clients were connected:" \
		"$(cat "$BATS_TEST_TMPDIR/normal.err")" || return 1
	echo "normal 1 202" >>"$EVENTS"
	if ! wait "$idle" || ! wait "$slow"; then
		fail "not every held client's connection ended within 20 s:" \
			"$(cat "$BATS_TEST_TMPDIR/idle.err" "$BATS_TEST_TMPDIR/slow.err")"
		return 1
	fi
	[[ $(head -n 1 "$EVENTS") == "normal 1 202" ]] ||
		fail "the normal client's 202 should come before any slow client is timed out; in order:" \
			"$(events)" || return 1
	assert_held_ended idle 408 "a client that sends nothing for --timeout-ms gets 408 (request_read_job())"
	assert_held_ended slow 408 "a client that never finishes its request gets 408 once --timeout-ms has passed"
	wait_for_log_lines 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "08: a client that never closes after its 202 holds up nobody" {
	local a status=0 late=$BATS_TEST_TMPDIR/late
	# Client A reads its 202 and keeps its side open, so the server lingers on A's connection
	# (conn_close_lingering(): it waits, up to 2 s, for A to close). Client B comes then. Once B
	# has its 202, A sends one more byte: a server still lingering on A reads and discards it;
	# one that has already closed A's socket - because it lingered on A before it could serve
	# B - answers it with a reset.
	server_start --work-ms 0 --journal "$JOURNAL"
	mkfifo "$late"
	"$HCLIENT" post "$PORT" --size 100 --seed 31 --linger-open "$late" >"$BATS_TEST_TMPDIR/a.out" \
		2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	a=$!
	client_started "$a"
	wait_for_output "$BATS_TEST_TMPDIR/a.out" answered "$a" ||
		fail "client A got no 202:" "$(cat "$BATS_TEST_TMPDIR/a.err")" || return 1
	"$HCLIENT" post "$PORT" --size 200 --seed 32 >"$BATS_TEST_TMPDIR/sent" ||
		fail "client B got no 202 while client A kept its connection open after its own 202" || return 1
	# shellcheck disable=SC2016 # $1 is the inner shell's
	timeout 5 bash -c 'echo go >"$1"' _ "$late"
	wait "$a" || status=$?
	((status == 0)) || fail "client A, which kept its connection open after its 202, sent one more byte after" \
		"client B's 202, and the server answered it with a reset: it had already closed A's socket." \
		"Either it served B only once its lingering close on A had ended (after 2 s, as A never" \
		"closed) - the accept loop itself answered and closed A - or it did not linger at all." \
		"A connection's own thread must answer and close with conn_close_lingering_or_stop()," \
		"while the accept loop goes back to accept()." "$(cat "$BATS_TEST_TMPDIR/a.err")" || return 1
	head -n 1 "$BATS_TEST_TMPDIR/a.out" >>"$BATS_TEST_TMPDIR/sent"
	wait_for_log_lines 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "08: one connection beyond --connections gets 503 with Retry-After at once, and the next is served once a slot is free" {
	local held
	server_start --work-ms 0 --connections 2 --journal "$JOURNAL"
	hold_clients idle 2
	held=$HELD_PID
	# Both accepted, each by a thread of its own: the server is at its limit.
	wait_for_threads connection 2 || return 1
	# A client that sends nothing: the refusal must not wait for its request, and nothing it
	# sent is left unread (conn_close_at_once() would then end with a reset).
	local fd refusal
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	refusal=$(timeout 3 cat <&"$fd") || true
	exec {fd}<&-
	assert_status "$refusal" 503 "with --connections 2 and two connections open, a third must get 503 at once
(the accept loop answers it: response_send_error(connfd, 503), conn_close_at_once()), not wait for a
free slot" || return 1
	[[ $refusal == *$'\r\nRetry-After: '* ]] ||
		fail "a 503 must say when to come back (Retry-After); it was:" "$refusal" || return 1
	[[ ! -s $EVENTS ]] || fail "the 503 came only after a held connection had ended:" "$(events)" \
		"the refusal must not wait for a slot to be free" || return 1
	# A refused client that keeps its side open holds nobody either: the accept loop closes a
	# refusal at once and never lingers on it. So one byte that the client sends after its 503
	# meets a closed socket, which answers with a reset (hclient exits 4).
	local late=$BATS_TEST_TMPDIR/late refused status=0 deadline=$((SECONDS + 10))
	mkfifo "$late"
	"$HCLIENT" post "$PORT" --size 1 --seed 43 --expect 503 --linger-open "$late" \
		>"$BATS_TEST_TMPDIR/refused.out" 2>"$BATS_TEST_TMPDIR/refused.err" 3>&- &
	refused=$!
	client_started "$refused"
	until grep -qx answered "$BATS_TEST_TMPDIR/refused.out" 2>/dev/null || ! kill -0 "$refused" 2>/dev/null; do
		((SECONDS < deadline)) || fail "a third client got no 503 within 10 s" || return 1
		sleep 0.01
	done
	# shellcheck disable=SC2016 # $1 is the inner shell's
	! kill -0 "$refused" 2>/dev/null || timeout 5 bash -c 'echo go >"$1"' _ "$late"
	wait "$refused" || status=$?
	((status == 4)) || fail "a refused client kept its side open after its 503 and then sent one more byte," \
		"and the server read it instead of answering with a reset: the accept loop lingered on the" \
		"refused connection (conn_close_lingering()), and while it lingers - up to 2 s - it" \
		"accepts nobody. A refusal closes at once: conn_close_at_once()." \
		"the client said:" "$(cat "$BATS_TEST_TMPDIR/refused.out" "$BATS_TEST_TMPDIR/refused.err")" || return 1
	# The held clients go; their threads see EOF, close, and give their slots back.
	kill "$held"
	wait "$held" 2>/dev/null || true
	wait_for_threads connection 0 || return 1
	"$HCLIENT" post "$PORT" --size 10 --seed 42 --timeout-ms 3000 >"$BATS_TEST_TMPDIR/sent" ||
		fail "once the held clients had gone and their threads had ended, a new client should get" \
			"202: a connection thread must count itself out when it ends (connection_closed())," \
			"or its slot stays taken for ever" || return 1
	wait_for_log_lines 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "08: SIGTERM with idle and trickling connections open exits 0 at once and loses no accepted job" {
	# --timeout-ms 60000: a server that waits for its clients' deadline cannot pass the bounds.
	server_start --gate --work-ms 0 --timeout-ms 60000 --journal "$JOURNAL"
	"$HCLIENT" jobs "$PORT" 3 51 >"$BATS_TEST_TMPDIR/sent" || fail "3 jobs should get 202" || return 1
	hold_clients idle 10
	hold_clients slow 10 --trickle 200
	# Every thread waits: the workers at the gate with the 3 jobs, and each connection's thread
	# for the rest of its request - having read every byte sent so far, the trickling ones' first.
	wait_until_blocked || return 1
	server_signal TERM
	wait_for_events 20 3 ||
		fail "3 s after SIGTERM, only $(event_count) of the 20 held connections" \
			"had ended: the server waits for clients that will not send a request in the next" \
			"minute. At a stop, a connection's thread must stop waiting (req.stop_fd =" \
			"srv->stop_fd, which request_read_job() watches) and close it." \
			"what happened, in order:" "$(events)" || return 1
	assert_held_ended idle EOF "a connection that has sent nothing is closed at a stop without an answer" || return 1
	assert_held_ended slow 503 "a connection half-way through its request gets 503 at a stop" || return 1
	# Only now may the jobs run: the stop must still run every accepted one.
	gate_release 3
	server_exits_within 5 ||
		fail "5 s after SIGTERM and the gate's opening, the server still runs:" \
			"$(cat "$SERVER_ERR")" || return 1
	((SERVER_STATUS == 0)) || fail "after SIGTERM the server $(describe_exit "$SERVER_STATUS")" \
		"its stderr:" "$(cat "$SERVER_ERR")" || return 1
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
}

@test "08: each connection reads into its own buffer" {
	local a status=0 hold=$BATS_TEST_TMPDIR/hold
	# A sends its head and half its body, and waits. B sends a whole job meanwhile. A server whose
	# connection threads share one request buffer gives B's bytes to A's job, or A's to B's.
	server_start --work-ms 0 --journal "$JOURNAL"
	mkfifo "$hold"
	"$HCLIENT" post "$PORT" --size 3000 --seed 61 --hold "$hold" --hold-after 1500 \
		>"$BATS_TEST_TMPDIR/a.out" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	a=$!
	client_started "$a"
	wait_for_output "$BATS_TEST_TMPDIR/a.out" held "$a" || return 1
	# Every thread of the server waits: A's has read A's head and the first half of its body.
	wait_until_blocked || return 1
	"$HCLIENT" post "$PORT" --size 2000 --seed 62 --timeout-ms 3000 >"$BATS_TEST_TMPDIR/sent" ||
		fail "client B got no 202 while client A was half-way through its body: the accept loop" \
			"reads A's request itself, instead of handing A's connection to a thread and going" \
			"back to accept()" || return 1
	# shellcheck disable=SC2016 # $1 is the inner shell's
	timeout 5 bash -c 'echo go >"$1"' _ "$hold"
	wait "$a" || status=$?
	((status == 0)) || fail "client A, who finished its body after B's 202, got no 202 of its own:" \
		"$(cat "$BATS_TEST_TMPDIR/a.err")" \
		"B's request was read while A's was half-way: if the connection threads share one" \
		"struct request, B's head and body overwrote A's. Each connection needs its own." || return 1
	head -n 1 "$BATS_TEST_TMPDIR/a.out" >>"$BATS_TEST_TMPDIR/sent"
	wait_for_log_lines 2
	assert_log_holds "$BATS_TEST_TMPDIR/sent" ||
		fail "each connection thread must read into a struct request of its own (struct" \
			"connection holds one); a buffer shared by the threads mixes the bytes of two clients" \
			"whose requests are read at the same time"
}

@test "08: a job keeps its own copy, not a pointer into its connection's buffer" {
	# The job waits at the gate until its connection's thread has ended and freed its request
	# (request_free()); freed memory reads 0xA5 in the server under test (helpers.bash).
	server_start --gate --work-ms 0 --journal "$JOURNAL"
	"$HCLIENT" post "$PORT" --size 3000 --seed 71 >"$BATS_TEST_TMPDIR/sent" || fail "the job should get 202" || return 1
	wait_for_threads connection 0 || return 1
	gate_release
	wait_for_log_lines 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent" ||
		fail "the job ran after its connection's thread had freed the request, and logged other" \
			"bytes than its client sent: it read the connection's buffer, not a copy. job_new()" \
			"copies the body; the job must not keep a pointer into req->body"
}

@test "08: kill -9 with jobs queued, restart: every 202'd job is logged exactly once" {
	crash_after 20 5
	restart_and_finish 20 --workers 2 --queue 4 --work-ms 2
	assert_ids_unique
	assert_log_holds "$BATS_TEST_TMPDIR/sent"
	((SERVER_STATUS == 0)) || fail "after SIGTERM the restarted server $(describe_exit "$SERVER_STATUS")"
}

@test "08: the 202 says Location: /jobs/ID, and GET there reports the job queued, then done" {
	local body sent deadline=$((SECONDS + 5))
	server_start --gate --work-ms 0 --journal "$JOURNAL"
	"$HCLIENT" post "$PORT" --size 300 --seed 81 --response "$BATS_TEST_TMPDIR/202" >"$BATS_TEST_TMPDIR/sent"
	grep -q $'^Location: /jobs/1\r$' "$BATS_TEST_TMPDIR/202" ||
		fail "the 202 should carry 'Location: /jobs/1'; it was:" "$(cat "$BATS_TEST_TMPDIR/202")" || return 1
	body=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/jobs/1")
	[[ $body == *'"state":"queued","length":300'* ]] ||
		fail "GET /jobs/1 should report the job queued, length 300, while it waits at the gate:" "$body" || return 1
	gate_release
	wait_for_log_lines 1
	sent=$(cat "$BATS_TEST_TMPDIR/sent")
	# A worker writes the log line a moment before it records the state: poll, bounded.
	until [[ $body == *"\"state\":\"done\",\"length\":300,\"checksum\":\"${sent#* }\""* ]]; do
		((SECONDS < deadline)) || fail "GET /jobs/1 should report the job done, with its checksum:" "$body" || return 1
		sleep 0.01
		body=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/jobs/1")
	done
}

@test "08: logs every job exactly once, with its length and checksum (random bodies)" {
	contract_random_jobs 202 --journal "$JOURNAL"
}

@test "08: answers bad requests with 400, 404, 405, 408, 411, 413, 431 or 501" {
	contract_bad_requests --journal "$JOURNAL"
}

@test "08: survives clients that hang up early" {
	contract_rude_clients 202 --journal "$JOURNAL"
}

@test "08: request limits hold to the byte, signed lengths are refused, and the job gets no byte past its body" {
	contract_limits 202 --journal "$JOURNAL"
}

# front_door_under TOOL: many connections at once under a valgrind tool - 16 jobs from 16 clients
# at a time, with 3 idle and 2 trickling connections open throughout - then SIGTERM, which lets
# the held connections go, runs every accepted job and frees everything.
front_door_under() {
	server_start --valgrind "$1" --work-ms 0 --workers 2 --journal "$JOURNAL.$1"
	hold_clients "idle-$1" 3
	hold_clients "slow-$1" 2 --trickle 100
	# One job first, given 2 s, which a server that serves its connections side by side needs a
	# fraction of even under valgrind; one that serves them one at a time is still reading the
	# first held connection, and fails here, at once, not after the load's 5 s.
	"$HCLIENT" post "$PORT" --size 10 --seed 90 --timeout-ms 2000 >"$BATS_TEST_TMPDIR/sent.$1" ||
		fail "$1: with 5 slow connections open, a job got no answer within 2 s: the server" \
			"serves one connection at a time, and the slow ones hold it" || return 1
	# 5 s for each answer, under valgrind too: a server that serves one connection at a time
	# holds every other client for as long as a held connection's --timeout-ms.
	"$HCLIENT" load "$PORT" 16 91 --parallel 16 --timeout-ms 5000 >>"$BATS_TEST_TMPDIR/sent.$1" \
		2>"$BATS_TEST_TMPDIR/load" ||
		fail "$1: sending 16 jobs failed:" "$(cat "$BATS_TEST_TMPDIR/load")" || return 1
	grep -q '^16 accepted' "$BATS_TEST_TMPDIR/load" ||
		fail "$1: all 16 jobs should have been accepted:" "$(cat "$BATS_TEST_TMPDIR/load")" || return 1
	server_signal TERM
	assert_valgrind_clean || return 1
	assert_log_holds "$BATS_TEST_TMPDIR/sent.$1" || return 1
	rm -f "$JOB_LOG"
}

@test "08: memcheck: connection threads free their requests, and nothing leaks" {
	front_door_under memcheck
}

@test "08: helgrind and DRD: no data race between the connection threads, the accept loop and the workers" {
	front_door_under helgrind
	front_door_under drd
}
