#!/usr/bin/env bats
# The kit's own test: each lesson's starter, exactly as the kit ships it, fails its lesson's
# check - so a student who runs `make check L=NN` before writing anything sees what to do.
# The starters are built from git (see PRISTINE_REV in the Makefile), not from lessons/, so a
# student's finished lesson does not turn this red.

load helpers

# For each lesson, the test its starter must fail: the lesson's first new idea.
STARTER_FAILS=(
	"01: answers 200 only after the job is done, with the job's log line as the body"
	"02: answers 202 before the job runs, and the job runs after"
	"03: answers the next client while an earlier job is still running"
	"04: beyond workers + queue jobs, answers 503 with Retry-After at once, and keeps serving"
	"05: SIGTERM with 55 jobs queued or running: every 202'd job is logged once, exit 0"
	"06: the 202 says Location: /jobs/ID; GET there reports queued, then done with the checksum"
	"07: a job is in the journal before its 202"
	"08: a normal client's 202 comes before any idle or trickling client is timed out"
	"09: two jobs on one connection get two 202s, and each logs its own bytes"
)

# One bats run, every lesson file against the pristine starters, and only the tests above; each
# test below reads its lesson's line from the result.
setup_file() {
	local name filter
	filter=$(for name in "${STARTER_FAILS[@]}"; do regex_quote "$name"; done | paste -sd'|')
	SERVERS_DIR=$KIT/build/pristine/lessons bats --tap --filter "^($filter)\$" "$KIT"/tests/lesson[0-9]*.bats \
		>"$BATS_FILE_TMPDIR/starters.tap" 2>&1 || true
}

# starter_fails NN: the pristine lesson NN starter failed its test from STARTER_FAILS.
starter_fails() {
	local name output
	output=$(<"$BATS_FILE_TMPDIR/starters.tap")
	for name in "${STARTER_FAILS[@]}"; do
		[[ $name == "$1: "* ]] && break
	done
	[[ $name == "$1: "* ]] || fail "STARTER_FAILS names no test of lesson $1"
	[[ $output != *"no server at"* ]] || fail "a starter did not run: run make check, which builds them" "$output"
	case $(tap_status "$output" "$name") in
	"not ok") return 0 ;;
	ok) fail "the lesson $1 starter, as shipped, passes '$name': it should fail it" "$output" ;;
	*) fail "tests/lesson$1.bats has no test named '$name':" "$output" ;;
	esac
}

@test "every lesson has its text, its starter, its reference, its test file and a test here" {
	local dir name lesson
	for dir in "$KIT"/lessons/[0-9]*/; do
		name=$(basename "$dir")
		lesson=${name%%-*}
		[[ -s $dir/README.md ]] || fail "lessons/$name has no README.md"
		[[ -s $dir/server.c ]] || fail "lessons/$name has no starter server.c"
		[[ -s $KIT/solutions/$name/server.c ]] || fail "lessons/$name has no solutions/$name/server.c"
		[[ -s $KIT/tests/lesson$lesson.bats ]] || fail "lessons/$name has no tests/lesson$lesson.bats"
		grep -q "starter_fails $lesson\$" "$BATS_TEST_FILENAME" || fail "lessons/$name has no starter test here"
	done
}

@test "the lesson 01 starter, as shipped, fails lesson 01's check" {
	starter_fails 01
}

@test "the lesson 02 starter, as shipped, fails lesson 02's check" {
	starter_fails 02
}

@test "the lesson 03 starter, as shipped, fails lesson 03's check" {
	starter_fails 03
}

@test "the lesson 04 starter, as shipped, fails lesson 04's check" {
	starter_fails 04
}

@test "the lesson 05 starter, as shipped, fails lesson 05's check" {
	starter_fails 05
}

@test "the lesson 06 starter, as shipped, fails lesson 06's check" {
	starter_fails 06
}

@test "the lesson 07 starter, as shipped, fails lesson 07's check" {
	starter_fails 07
}

@test "the lesson 08 starter, as shipped, fails lesson 08's check" {
	starter_fails 08
}

@test "the lesson 09 starter, as shipped, fails lesson 09's check" {
	starter_fails 09
}
