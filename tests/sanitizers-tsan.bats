#!/usr/bin/env bats
# The kit's own test: every reference with threads passes its lesson's checks built with
# ThreadSanitizer (tests/sanitizers.bash says which checks, and why). Lessons 01 and 02 run
# everything on one thread, so TSan would have nothing to watch there.

load helpers
load sanitizers

@test "the references with threads (lesson 03 on) pass their checks under TSan" {
	local lessons
	mapfile -t lessons < <(all_lessons | sed '/^0[12]$/d')
	references_pass tsan "${lessons[@]}"
}
