# tests/sanitizers.bash - shared by sanitizers-asan.bats and sanitizers-tsan.bats (two files so
# that they run in parallel). Every reference must pass the scenarios that exercise memory and
# threads most when built with a sanitizer (make sanitizers). A sanitizer that finds something
# aborts the server (halt_on_error), and the lesson's checks fail.
# shellcheck shell=bash disable=SC2154 # bats' run sets $status and $output

# The tests of each lesson file that run under the sanitizers: the request paths, the jobs and
# their threads, overload, shutdown, status and replay - one or two scenarios a lesson, since a
# sanitizer build is slow to start and the scenarios cover the same core paths as the rest. The
# two clients at the gate run for lesson 03 only: from lesson 04 on, overload, shutdown, status
# and replay hand many more jobs from the accept loop to the workers.
SANITIZED_TESTS='answers 200 only|answers 202 before|03: each job logs the bytes its own client sent|503 with Retry-After|55 jobs|queued, then done|kill -9 with|08: SIGTERM with idle|08: each connection reads|09: pipelined in one write|09: SIGTERM with idle keep-alive'

# references_pass BUILD NN...: the references of lessons NN..., built under build/BUILD/, pass
# their lessons' sanitized tests - in one bats run, with SERVERS_DIR pointing at that build. A
# sanitizer's runtime must be the first library loaded, so no LD_PRELOAD here (NO_PRELOAD).
references_pass() {
	local build=$1 lesson files=() dir
	shift
	for lesson in "$@"; do
		dir=$(basename "$(echo "$KIT"/lessons/"$lesson"-*)")
		[[ -x $KIT/build/$build/solutions/$dir/server ]] ||
			fail "solutions/$dir has no $build build: run make sanitizers"
		files+=("$KIT/tests/lesson$lesson.bats")
	done
	SERVERS_DIR=$KIT/build/$build/solutions NO_VALGRIND=1 NO_PRELOAD=1 \
		ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run bats --tap --filter "$SANITIZED_TESTS" "${files[@]}"
	((status == 0)) || fail "a reference built with $build fails its lesson's checks:" "$output"
	[[ $output != *"# skip"* ]] || fail "a sanitized test was skipped under $build:" "$output"
	for lesson in "$@"; do
		grep -qE "^ok [0-9]+ $lesson: " <<<"$output" || fail "no lesson $lesson test ran under $build:" "$output"
	done
}

# Every lesson, NN, that has a test file.
all_lessons() {
	local file
	for file in "$KIT"/tests/lesson[0-9]*.bats; do
		file=${file##*/lesson}
		echo "${file%.bats}"
	done
}
