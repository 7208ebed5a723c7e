#!/usr/bin/env bats
# The kit's own test: lesson 07's stretch, group commit, has a reference of its own,
# solutions/07-group-commit/. It must pass every test of lesson 07 (the `--commit group` ones
# drive its committer), and lesson 07's sanitized tests built with ASan+UBSan and with TSan.

load helpers
load sanitizers

GROUP_COMMIT=solutions/07-group-commit

@test "the group-commit reference passes lesson 07's check" {
	[[ -x $KIT/build/$GROUP_COMMIT/server ]] || fail "$GROUP_COMMIT is not built: run make"
	SERVER=$KIT/build/$GROUP_COMMIT/server run bats --tap "$KIT/tests/lesson07.bats"
	((status == 0)) || fail "the group-commit reference fails lesson 07's check:" "$output"
	grep -q '^ok .*--commit group' <<<"$output" || fail "no --commit group test ran:" "$output"
}

@test "the group-commit reference passes lesson 07's sanitized tests under ASan and TSan" {
	local build
	for build in asan tsan; do
		[[ -x $KIT/build/$build/$GROUP_COMMIT/server ]] ||
			fail "$GROUP_COMMIT has no $build build: run make sanitizers" || return 1
		SERVER=$KIT/build/$build/$GROUP_COMMIT/server NO_VALGRIND=1 NO_PRELOAD=1 \
			ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			run bats --tap --filter "$SANITIZED_TESTS" "$KIT/tests/lesson07.bats"
		((status == 0)) || fail "the group-commit reference built with $build fails:" "$output" || return 1
		grep -q '^ok .*--commit group: kill -9' <<<"$output" ||
			fail "the group crash test did not run under $build:" "$output" || return 1
	done
}
