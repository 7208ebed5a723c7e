#!/usr/bin/env bats
# The kit's own test: every reference passes its lesson's checks built with ThreadSanitizer
# (tests/sanitizers.bash says which checks, and why).

load helpers
load sanitizers

@test "the references pass their checks under TSan" {
	all_lessons_pass tsan
}
