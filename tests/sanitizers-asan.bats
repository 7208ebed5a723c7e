#!/usr/bin/env bats
# The kit's own test: every reference passes its lesson's checks built with AddressSanitizer
# and UndefinedBehaviorSanitizer (tests/sanitizers.bash says which checks, and why).

load helpers
load sanitizers

@test "the references pass their checks under ASan and UBSan" {
	local lessons
	mapfile -t lessons < <(all_lessons)
	references_pass asan "${lessons[@]}"
}
