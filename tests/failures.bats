#!/usr/bin/env bats
# The kit's own test: a failing check helps the student who reads it. A failed test ends with a
# command that runs it again, alone, and that command really does; a double close, which no
# response shows, fails lesson 02 with words that name it.

load helpers

# The lines of a failed test's output that follow "run this test alone:", "# " taken off.
rerun_command() {
	sed -n '/^# run this test alone:$/{n;s/^#   //p;q}' <<<"$1"
}

@test "a failed test prints the command that runs it alone, and that command runs just that test" {
	local name="01: answers 200 only after the job is done, with the job's log line as the body" command
	SERVER=$KIT/build/pristine/lessons/01-blocking/server run bats --tap \
		--filter "^$(regex_quote "$name")\$" "$KIT/tests/lesson01.bats"
	[[ $(tap_status "$output" "$name") == "not ok" ]] || fail "the lesson 01 starter should fail '$name':" "$output"
	command=$(rerun_command "$output")
	[[ $command == *"bats --filter"* ]] || fail "no command to run the test alone after its failure:" "$output"
	run bash -c "cd '$KIT' && $command"
	[[ $output == *$'\n1..1\n'* || $output == 1..1$'\n'* ]] ||
		fail "the printed command ran more, or less, than the one test:" "$command" "$output"
	[[ $(tap_status "$output" "$name") == "not ok" ]] || fail "the printed command did not run '$name':" "$command" "$output"
}

@test "for a student's server, the command is make check L=NN ONLY='NAME', quoted for the shell" {
	local name="05: SIGTERM with 55 jobs queued or running: every 202'd job is logged once, exit 0"
	# make check L=NN says STUDENT_CHECK; the starter stands in for the student's server.
	STUDENT_CHECK=05 SERVER=$KIT/build/pristine/lessons/05-graceful-shutdown/server \
		run bats --tap --filter "^$(regex_quote "$name")\$" "$KIT/tests/lesson05.bats"
	[[ $(rerun_command "$output") == "make check L=05 ONLY='05: SIGTERM with 55 jobs queued or running: every 202'\\''d job is logged once, exit 0'" ]] ||
		fail "expected make check L=05 ONLY='...' with the apostrophe quoted, after:" "$output"
	[[ $output == *"try it by hand"*"--gate /tmp/gate"*"printf x >/tmp/gate"* ]] ||
		fail "a gated test should print a recipe that starts the server with a gate of its own:" "$output"
}

@test "a double close fails lesson 02 with words that name it" {
	local name="02: a 202 has Content-Length: 0 and Connection: close"
	# The reference, with the close of lesson 01 left at the end of handle_client() as well.
	sed 's|^\trequest_clear(req);$|\trequest_clear(req);\n\tconn_close_lingering(connfd);|' \
		"$KIT/solutions/02-answer-first/server.c" >"$BATS_TEST_TMPDIR/server.c"
	! cmp -s "$KIT/solutions/02-answer-first/server.c" "$BATS_TEST_TMPDIR/server.c" ||
		fail "the reference changed: this test's sed no longer adds the second close"
	cc -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -I"$KIT/lessons/common" -o "$BATS_TEST_TMPDIR/server" \
		"$BATS_TEST_TMPDIR/server.c" "$KIT/build/common/libhandoff.a" -pthread
	SERVER=$BATS_TEST_TMPDIR/server run bats --tap --filter "^$(regex_quote "$name")\$" "$KIT/tests/lesson02.bats"
	[[ $(tap_status "$output" "$name") == "not ok" ]] || fail "a server that closes twice passed '$name':" "$output"
	[[ $output == *"Bad file descriptor"*"a socket closed twice"* ]] ||
		fail "the failure should quote the EBADF and say that a socket was closed twice:" "$output"
}
