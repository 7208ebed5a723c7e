#!/usr/bin/env bats
# The kit's own test: each lesson's starter, exactly as the kit ships it, fails its lesson's
# check - so a student who runs `make check L=NN` before writing anything sees what to do.
# The starters are built from git (see PRISTINE_REV in the Makefile), not from lessons/, so a
# student's finished lesson does not turn this red.

load helpers

# starter_fails LESSON-DIR TEST-NAME: the pristine starter fails the named test of its lesson.
starter_fails() {
	local lesson=${1%%-*} filter server=$KIT/build/pristine/lessons/$1/server
	[[ -x $server ]] || fail "no pristine starter at $server: run make check, which builds it"
	filter=$(regex_quote "$2")
	SERVER=$server \
		run bats --tap --filter "^$filter\$" "$KIT/tests/lesson$lesson.bats"
	[[ $output != 1..0* ]] || fail "tests/lesson$lesson.bats has no test named '$2'"
	[[ $output == *"not ok 1 $2"* ]] ||
		fail "the lesson $lesson starter, as shipped, passes '$2': it should fail it" "$output"
	[[ $output != *"no server at"* ]] || fail "the starter did not run:" "$output"
}

@test "every lesson has its text, its starter, its reference and its test file" {
	local dir name
	for dir in "$KIT"/lessons/[0-9]*/; do
		name=$(basename "$dir")
		[[ -s $dir/README.md ]] || fail "lessons/$name has no README.md"
		[[ -s $dir/server.c ]] || fail "lessons/$name has no starter server.c"
		[[ -s $KIT/solutions/$name/server.c ]] || fail "lessons/$name has no solutions/$name/server.c"
		[[ -s $KIT/tests/lesson${name%%-*}.bats ]] || fail "lessons/$name has no tests/lesson${name%%-*}.bats"
		grep -q "starter_fails $name " "$BATS_TEST_FILENAME" || fail "lessons/$name has no starter test here"
	done
}

@test "the lesson 01 starter, as shipped, fails lesson 01's check" {
	starter_fails 01-blocking "01: answers 200 only after the job is done, with the job's log line as the body"
}

@test "the lesson 02 starter, as shipped, fails lesson 02's check" {
	starter_fails 02-answer-first "02: answers 202 before the job runs, and the job runs after"
}

@test "the lesson 03 starter, as shipped, fails lesson 03's check" {
	starter_fails 03-background-thread "03: answers the next client while an earlier job is still running"
}

@test "the lesson 04 starter, as shipped, fails lesson 04's check" {
	starter_fails 04-worker-pool "04: beyond workers + queue jobs, answers 503 with Retry-After at once, and keeps serving"
}

@test "the lesson 05 starter, as shipped, fails lesson 05's check" {
	starter_fails 05-graceful-shutdown "05: SIGTERM with 55 jobs queued or running: every 202'd job is logged once, exit 0"
}

@test "the lesson 06 starter, as shipped, fails lesson 06's check" {
	starter_fails 06-status-monitor "06: the 202 says Location: /jobs/ID; GET there reports queued, then done with the checksum"
}

@test "the lesson 07 starter, as shipped, fails lesson 07's check" {
	starter_fails 07-durable-acceptance "07: a job is in the journal before its 202"
}
