# tests/sanitizers.bash - shared by sanitizers-asan.bats and sanitizers-tsan.bats (two files so
# that they run in parallel). Every reference must pass the scenarios that exercise memory and
# threads most when built with a sanitizer (make sanitizers). A sanitizer that finds something
# aborts the server (halt_on_error), and the lesson's checks fail.
# shellcheck shell=bash disable=SC2154 # bats' run sets $status and $output

# The tests of each lesson file that run under the sanitizers: the request paths, the jobs and
# their threads, overload, shutdown, status and replay - one or two scenarios a lesson, since a
# sanitizer build is slow to start and the scenarios cover the same core paths as the rest.
SANITIZED_TESTS='answers 200 only|answers 202 before|own client sent|503 with Retry-After|55 jobs|queued, then done|kill -9 with'

# lesson_passes BUILD LESSON-DIR: solutions/LESSON-DIR built under build/BUILD passes.
lesson_passes() {
	local lesson=${2%%-*}
	[[ -x $KIT/build/$1/solutions/$2/server ]] || fail "solutions/$2 has no $1 build: run make sanitizers"
	SERVER=$KIT/build/$1/solutions/$2/server NO_VALGRIND=1 \
		ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run bats --tap --filter "$SANITIZED_TESTS" "$KIT/tests/lesson$lesson.bats"
	((status == 0)) || fail "solutions/$2 built with $1 fails lesson $lesson's checks:" "$output"
	[[ $output == *"ok "* ]] || fail "no lesson $lesson test ran under $1"
}

# Every reference, built with sanitizer build $1.
all_lessons_pass() {
	local dir
	for dir in "$KIT"/solutions/*/; do
		lesson_passes "$1" "$(basename "$dir")"
	done
}
