# tests/helpers.bash - what every test file shares: starting a server and waiting for its
# readiness line, the gate, bounded waits, valgrind runs, and failure messages in plain words.
#
# Nothing here orders events with sleep. A test waits for the readiness line, for a response,
# for the server to exit (`wait`), or - bounded - for a line to appear in the job log.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

KIT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# shellcheck disable=SC2034 # the test files use it
HCLIENT=$KIT/build/tests/hclient
# No single server may live longer than this; a hung server fails its test instead of hanging.
SERVER_LIFETIME=${SERVER_LIFETIME:-30}
# In the server under test, freed memory reads 0xA5 (glibc's perturb, with the per-thread cache
# off), so a job that reads freed memory logs a wrong checksum every run instead of by luck. Only
# the server gets it: in bash and every other tool it would only cost time.
SERVER_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.perturb=165
# Loaded into every server that runs without valgrind, strace or a sanitizer: it aborts a server
# whose signal handler calls a function that is not async-signal-safe (tests/tools/signal-safety.c).
SIGNAL_SAFETY=$KIT/build/tests/signal-safety.so

# The server under test: $SERVER if set (make check L=NN sets it), else the lesson's reference
# from $SERVERS_DIR (default build/solutions; the sanitizer tests point it at their builds).
use_server() {
	SERVER=${SERVER:-${SERVERS_DIR:-$KIT/build/solutions}/$1/server}
	[[ $SERVER == /* ]] || SERVER=$KIT/$SERVER
	[[ -x $SERVER ]] || {
		echo "no server at $SERVER: run make first" >&2
		return 1
	}
}

# Prints $1 with the characters that mean something in an extended regular expression escaped,
# for bats --filter.
regex_quote() {
	# shellcheck disable=SC2016 # a sed expression, not a shell one
	sed 's/[][\.*^$(){}?+|/]/\\&/g' <<<"$1"
}

# tap_status TAP NAME: how the test called NAME ended in bats' TAP output TAP - "ok" or
# "not ok" - or nothing if it did not run. Line by line: a glob over the whole output could
# match one test's "not ok" with another test's name.
tap_status() {
	local line
	while IFS= read -r line; do
		if [[ $line =~ ^(ok|not\ ok)\ [0-9]+\ (.*)$ && ${BASH_REMATCH[2]} == "$2" ]]; then
			echo "${BASH_REMATCH[1]}"
			return
		fi
	done <<<"$1"
}

# Says what went wrong, in words, and fails the test.
fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# valgrind's options for each tool, as the lessons explain them.
valgrind_options() {
	case $1 in
	memcheck) echo "--tool=memcheck --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all" ;;
	helgrind) echo "--tool=helgrind --free-is-write=yes" ;;
	drd) echo "--tool=drd --free-is-write=yes --check-stack-var=yes" ;;
	esac
}

# server_start [--valgrind TOOL | --strace FILE] [--gate] [server options...], the first two
# anywhere. Starts $SERVER on a free port, waits for "listening on 127.0.0.1:PORT", and sets PORT,
# SERVER_PID, JOB_LOG and (with --gate) GATE_FD, the write end of the gate. With --strace, FILE
# gets every write, send and fsync the server makes, in order (lesson 07 reads it).
server_start() {
	local wrap=() line gate=() options=() preload=()
	while (($#)); do
		case $1 in
		--valgrind | --strace) options=("$1" "$2" "${options[@]}") && shift 2 ;;
		--gate) gate=(--gate "$BATS_TEST_TMPDIR/gate") && shift ;;
		*) options+=("$1") && shift ;;
		esac
	done
	set -- "${options[@]}"
	VALGRIND_TOOL=
	if [[ ${1-} == --valgrind ]]; then
		# A sanitizer build cannot run under valgrind (tests/sanitizers.bats sets this).
		[[ -z ${NO_VALGRIND-} ]] || skip "no valgrind runs in this build (NO_VALGRIND)"
		VALGRIND_TOOL=$2
		VALGRIND_LOG=${VALGRIND_LOG_DIR:-$BATS_TEST_TMPDIR}/$2.log
		if [[ -z ${VALGRIND_LOG_DIR-} && -n ${REPORTS_DIR-} ]]; then
			# make check L=NN: kept under build/ after the run, for the student to read.
			mkdir -p "$REPORTS_DIR"
			VALGRIND_LOG=$REPORTS_DIR/test$BATS_TEST_NUMBER-$2.log
		fi
		# shellcheck disable=SC2207 # the options are words without blanks
		wrap=(valgrind -q --error-exitcode=99 --num-callers=30 --log-file="$VALGRIND_LOG"
			--suppressions="$KIT/tests/valgrind.supp"
			$(valgrind_options "$2"))
		shift 2
	elif [[ ${1-} == --strace ]]; then
		wrap=(strace -f -qq -s 256 -o "$2" -e "trace=write,writev,sendto,sendmsg,fsync,fdatasync")
		shift 2
	elif [[ -z ${NO_PRELOAD-} ]]; then
		[[ -f $SIGNAL_SAFETY ]] || fail "no $SIGNAL_SAFETY: run make first" || return 1
		preload=(env LD_PRELOAD="$SIGNAL_SAFETY")
	fi
	keep_server_output # of the server this test ran before, if any
	SERVER_OPTIONS=("${gate[@]}" "$@") # for the recipe a failure prints (rerun_hint)
	# A restarted server (lesson 07) gets fresh FIFOs.
	rm -f "$BATS_TEST_TMPDIR/gate" "$BATS_TEST_TMPDIR/ready"
	((${#gate[@]} == 0)) || mkfifo "$BATS_TEST_TMPDIR/gate"
	JOB_LOG=$BATS_TEST_TMPDIR/jobs.log
	SERVER_ERR=$BATS_TEST_TMPDIR/server.stderr
	mkfifo "$BATS_TEST_TMPDIR/ready"
	# In the test's own directory, so that no default path (jobs.journal...) lands in the kit.
	(cd "$BATS_TEST_TMPDIR" && GLIBC_TUNABLES=$SERVER_TUNABLES exec timeout -k 2 "$SERVER_LIFETIME" \
		"${wrap[@]}" "${preload[@]}" "$SERVER" \
		--port 0 --log "$JOB_LOG" "${gate[@]}" "$@") >"$BATS_TEST_TMPDIR/ready" 2>"$SERVER_ERR" 3>&- &
	SERVER_PID=$!
	exec {READY_FD}<"$BATS_TEST_TMPDIR/ready"
	if ! read -r -t 20 line <&"$READY_FD"; then
		fail "the server never printed its readiness line ('listening on 127.0.0.1:PORT')" \
			"its stderr:" "$(cat "$SERVER_ERR")"
		return 1
	fi
	if [[ ! $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
		fail "the readiness line should be 'listening on 127.0.0.1:PORT', not '$line'"
		return 1
	fi
	PORT=${BASH_REMATCH[1]}
	if ((${#gate[@]})); then
		# Read-write, like the server's: a write-only open would wait forever for a reader if
		# the server died after its readiness line. A write to a gate nobody reads any more
		# then only fills the pipe, and the server's exit status says what happened.
		exec {GATE_FD}<>"$BATS_TEST_TMPDIR/gate"
	fi
}

# Lets N jobs (default 1) past the gate. A server that died meanwhile cannot read the gate any
# more: then it stops quietly, and the caller's check of the server's exit status says why.
gate_release() {
	local bytes
	printf -v bytes '%*s' "${1:-1}" ''
	# A subshell that ignores SIGPIPE, to be safe: a write to a gate nobody reads must not kill us.
	(
		trap '' PIPE
		printf '%s' "$bytes" >&"$GATE_FD"
	) 2>/dev/null || true
}

# Waits for the server to exit (it does by itself after --max-clients) and sets SERVER_STATUS.
server_wait() {
	[[ -n $SERVER_PID ]] || return 0 # already waited for
	SERVER_STATUS=0
	# The braces keep bash's own "Aborted (...)" notice out of the failure message: the exit
	# status says it in words (describe_exit).
	{ wait "$SERVER_PID"; } 2>/dev/null || SERVER_STATUS=$?
	SERVER_PID=
}

# Sends signal $1 (TERM, INT...) to the server itself, not to the timeout around it: timeout
# would pass it on, but then also send SIGKILL 2 s later (its -k), and a server that takes longer
# than that to finish its jobs, under valgrind or a loaded machine, would die as if it hung.
server_signal() {
	local server
	server=$(pgrep -P "$SERVER_PID") || fail "there was no server to send SIG$1 to: it had already exited" || return 1
	# Under strace, the server is strace's child (env and valgrind exec the server itself).
	[[ $(cat "/proc/$server/comm" 2>/dev/null) != strace ]] || server=$(pgrep -P "$server")
	kill "-$1" "$server" || fail "there was no server to send SIG$1 to: it had already exited"
}

# Waits, at most 10 s, until the server no longer accepts connections: from lesson 05 on, the
# first thing a stop does is close the listening socket. Polls, as wait_for_log_lines does.
wait_until_refused() {
	local fd deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		# The braces keep 2>/dev/null to this one connect: on a bare exec it would stay.
		{ exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 0
		exec {fd}<&-
		sleep 0.01
	done
	fail "10 s after the signal the server still accepts connections: it did not stop accepting"
}

# Kills the server itself with SIGKILL, as a crash would, and waits.
server_kill9() {
	server_signal KILL
	server_wait
}

# Says how a server's exit status reads to a person.
describe_exit() {
	case $1 in
	0) echo "exited normally" ;;
	99) echo "exited with valgrind's error status 99: valgrind found errors" ;;
	124 | 137) echo "was still running after ${SERVER_LIFETIME}s and was killed (hung?)" ;;
	13[0-9] | 14[0-9] | 15[0-9]) echo "was killed by signal $(($1 - 128)) ($(kill -l $(($1 - 128))))" ;;
	*) echo "exited with status $1" ;;
	esac
}

# True while the server process runs (a dead one that nobody has waited for is a zombie, "Z").
server_alive() {
	local state
	[[ -n ${SERVER_PID-} ]] && { read -r _ _ state _ <"/proc/$SERVER_PID/stat"; } 2>/dev/null &&
		[[ $state != Z ]]
}

# Waits, at most 10 s, until the job log has at least N lines; gives up early if the server
# dies. Polls: there is no event to wait for, because in the threaded lessons a finished job
# tells nobody but the log.
wait_for_log_lines() {
	local want=$1 deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		[[ -f $JOB_LOG ]] && (($(wc -l <"$JOB_LOG") >= want)) && return 0
		if ! server_alive; then
			# It may have written the last line, and exited, since the count above.
			[[ -f $JOB_LOG ]] && (($(wc -l <"$JOB_LOG") >= want)) && return 0
			server_wait
			fail "the server $(describe_exit "$SERVER_STATUS") before the job log had $want line(s)." \
				"the job log has:" "$(cat "$JOB_LOG" 2>/dev/null)" "its stderr:" "$(cat "$SERVER_ERR")"
			return 1
		fi
		sleep 0.01
	done
	fail "waited 10 s for $want line(s) in the job log; it has:" "$(cat "$JOB_LOG" 2>/dev/null)"
}

# The job log as "<length> <checksum>" lines, sorted, without the ids.
logged_jobs() {
	[[ -f $JOB_LOG ]] || return 0
	cut -d' ' -f2- "$JOB_LOG" | sort
}

# Fails unless the job log holds exactly the jobs in file $1 ("<length> <checksum>" lines). A
# failure leads with the counts, then shows at most five lines of each kind.
assert_log_holds() {
	local want got missing extra
	want=$(sort "$1")
	got=$(logged_jobs)
	[[ $want == "$got" ]] && return 0
	missing=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed '/^$/d')
	extra=$(comm -13 <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed '/^$/d')
	fail "the job log does not hold exactly the jobs the clients sent: $(count_lines "$want") sent," \
		"$(count_lines "$got") logged; $(count_lines "$missing") of the sent jobs missing, and" \
		"$(count_lines "$extra") logged that no client sent (another job's bytes, or freed memory)." \
		"$(first_lines "missing from the log (length checksum):" "$missing")" \
		"$(first_lines "in the log, but no client sent it:" "$extra")"
}

# How many non-empty lines text $1 has.
count_lines() {
	[[ -n $1 ]] && wc -l <<<"$1" || echo 0
}

# first_lines TITLE TEXT: the title and the first five lines of TEXT, and how many more there are.
first_lines() {
	[[ -n $2 ]] || return 0
	printf '%s\n' "$1"
	head -n 5 <<<"$2" | sed 's/^/  /'
	(($(count_lines "$2") <= 5)) || echo "  ... and $(($(count_lines "$2") - 5)) more"
}

# After a valgrind run: fails, with the report, unless valgrind was content.
assert_valgrind_clean() {
	server_wait
	if ((SERVER_STATUS == 0)) && [[ ! -s $VALGRIND_LOG ]]; then
		return 0
	fi
	fail "$VALGRIND_TOOL: the server $(describe_exit "$SERVER_STATUS")." \
		"valgrind's report, our own frames only (tests/tools/vgfilter):" \
		"$("$KIT/tests/tools/vgfilter" <"$VALGRIND_LOG")" \
		"full report: $VALGRIND_LOG"
}

# Sends one raw request (printf format and arguments) and prints the whole response.
raw_request() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || {
		fail "could not connect to the server on port $PORT: is it still running?"
		return 1
	}
	# shellcheck disable=SC2059 # the format is the caller's
	printf "$@" >&"$fd"
	local status=0
	timeout 10 cat <&"$fd" || status=$?
	exec {fd}<&-
	((status != 124)) || fail "the server answered, but had not closed the connection after 10 s"
	return "$status"
}

# client_failed STATUS WORDS...: after hclient failed with STATUS. hclient has already said what
# was wrong with the answer; WORDS explain a missing one, so they are added only when none came
# in time (hclient's status 3). Always fails.
client_failed() {
	local status=$1
	shift
	((status != 3)) || fail "$@"
	return 1
}

# client_reset STATUS WORDS...: after hclient failed with STATUS. WORDS, about the close, are
# added only when the server reset the connection (hclient's status 4): a wrong status or a
# missing answer has other causes, which hclient has already named. Always fails.
client_reset() {
	local status=$1
	shift
	((status != 4)) || fail "$@"
	return 1
}

# Fails unless response $1 has status $2.
assert_status() {
	local status_line=${1%%$'\r'*}
	[[ $status_line == "HTTP/1.1 $2 "* ]] && return 0
	fail "expected status $2, got: '${status_line:-no response at all}'" "$3"
}

# Background clients a test started; teardown ends any that are left.
CLIENT_PIDS=()

# Keeps what the server this test started last wrote after its readiness line, and its stderr,
# for judge_server_output. Called when the server has exited (or before another one starts).
keep_server_output() {
	[[ -n ${READY_FD-} ]] || return 0
	timeout 2 cat <&"$READY_FD" >>"$BATS_TEST_TMPDIR/server.stdout" 2>/dev/null
	exec {READY_FD}<&-
	READY_FD=
	cat "$SERVER_ERR" >>"$BATS_TEST_TMPDIR/server.stderr.all" 2>/dev/null
	return 0
}

# Messages that the core prints only when a server misuses a descriptor.
MISUSE='Bad file descriptor|Socket operation on non-socket|signal-safety: '

# After a test that passed, with its servers gone: what they printed and what they left in the
# gate. A server must print nothing on stdout after its readiness line, nothing on stderr that
# shows a misused descriptor, and must have read one gate byte per job the test let through.
judge_server_output() {
	local misuse left
	keep_server_output
	misuse=$(grep -hE "$MISUSE" "$BATS_TEST_TMPDIR/server.stderr.all" 2>/dev/null | head -n 5)
	if [[ $misuse == *signal-safety:* ]]; then
		fail "$misuse"
		return 1
	fi
	if [[ -n $misuse ]]; then
		fail "the server printed on stderr:" "$misuse" \
			"'Bad file descriptor' (EBADF) means it used a descriptor it had already closed:" \
			"a socket closed twice, or touched after conn_close_lingering() gave it back. From" \
			"lesson 03 on, accept() may already have handed that number to the next client."
		return 1
	fi
	if [[ -s $BATS_TEST_TMPDIR/server.stdout ]]; then
		fail "after its readiness line the server printed on stdout:" \
			"$(head -c 400 "$BATS_TEST_TMPDIR/server.stdout")" \
			"stdout carries exactly one line, 'listening on 127.0.0.1:PORT' (docs/contract.md):" \
			"print anything else on stderr."
		return 1
	fi
	if [[ -n ${GATE_FD-} ]]; then
		left=$("$HCLIENT" pending <&"$GATE_FD")
		((left == 0)) || fail "the test let jobs past the gate, but $left gate byte(s) were never read:" \
			"each job must read one byte from the gate (gate_pass()) before it reads its input," \
			"or the test cannot hold it back to force the interleaving it checks."
	fi
}

teardown() {
	if ((${#CLIENT_PIDS[@]})); then
		kill "${CLIENT_PIDS[@]}" 2>/dev/null || true
	fi
	if [[ -n ${SERVER_PID-} ]]; then
		# SIGKILL, not SIGTERM: from lesson 05 on, SIGTERM waits for jobs still held at the gate.
		# The server first (under strace it is a grandchild), then what ran it. The braces keep
		# bash's "Killed (...)" notice about our own cleanup out of the test's output.
		{
			pkill -KILL -P "$(pgrep -d, -P "$SERVER_PID")"
			pkill -KILL -P "$SERVER_PID"
			kill "$SERVER_PID"
			wait "$SERVER_PID"
		} 2>/dev/null || true
	fi
	# After a test that passed, what the server left behind; after one that failed, how to run
	# it again.
	if [[ -n ${BATS_TEST_COMPLETED-} ]]; then
		judge_server_output || { rerun_hint && return 1; }
	else
		rerun_hint
	fi
}

# After a failed test: one command that runs this test alone, with the same random bodies, and a
# recipe to start the same server by hand.
rerun_hint() {
	local lesson file=${BATS_TEST_FILENAME##*/} server=${SERVER-} name=$BATS_TEST_DESCRIPTION
	[[ $file =~ ^lesson([0-9]+)\.bats$ ]] || return 0
	lesson=${BASH_REMATCH[1]}
	server=${server#"$KIT"/}
	local quoted=${name//\'/\'\\\'\'} # in single quotes, each ' becomes '\''
	echo "run this test alone:"
	# make check L=NN (tests/tools/student) says so with STUDENT_CHECK.
	if [[ -n ${STUDENT_CHECK-} || $server == build/lessons/* ]]; then
		echo "  make check L=$lesson ONLY='$quoted'${RERUN_SEED:+ SEED=$RERUN_SEED}"
	else
		quoted=$(regex_quote "$name")
		quoted=${quoted//\'/\'\\\'\'}
		echo "  ${RERUN_SEED:+SEED=$RERUN_SEED }SERVER=$server bats --filter '^$quoted\$' tests/$file"
	fi
	[[ -n ${SERVER_OPTIONS+set} ]] || return 0
	local options=("${SERVER_OPTIONS[@]}") recipe=() i gated=
	for ((i = 0; i < ${#options[@]}; i++)); do
		if [[ ${options[i]} == --gate ]]; then
			gated=1
			recipe+=(--gate /tmp/gate)
			i=$((i + 1))
		else
			recipe+=("${options[i]}")
		fi
	done
	echo "try it by hand: start the server in one terminal,"
	echo "  ${gated:+rm -f /tmp/gate; mkfifo /tmp/gate; }$server --port 8080${recipe[*]:+ ${recipe[*]}}"
	echo "  and send requests to port 8080 from another (curl, or build/tests/hclient post 8080 ...)."
	[[ -z $gated ]] || echo "  Each 'printf x >/tmp/gate' then lets one job past the gate."
}
