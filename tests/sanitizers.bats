#!/usr/bin/env bats
# The kit's own test: every reference passes its lesson's behaviour checks when built with
# AddressSanitizer + UndefinedBehaviorSanitizer, and with ThreadSanitizer (make sanitizers).
# A sanitizer that finds something aborts the server, and the lesson's checks fail.

load helpers

lesson_passes() {
	local lesson=${2%%-*}
	# halt_on_error: the first finding ends the server, so no check can pass by luck.
	SERVER=$KIT/build/$1/solutions/$2/server NO_VALGRIND=1 \
		ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run bats --tap "$KIT/tests/lesson$lesson.bats"
	((status == 0)) || fail "solutions/$2 built with $1 fails lesson $lesson's checks:" "$output"
}

@test "the references pass their checks under ASan and UBSan" {
	lesson_passes asan 01-blocking
	lesson_passes asan 02-answer-first
	lesson_passes asan 03-background-thread
}

@test "the references pass their checks under TSan" {
	lesson_passes tsan 01-blocking
	lesson_passes tsan 02-answer-first
	lesson_passes tsan 03-background-thread
}
