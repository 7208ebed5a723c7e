#!/usr/bin/env bats
# The kit's own test: the mistakes suite (tests/mistakes/) is whole. Every lesson has at least 8
# wrong answers that its check must catch, and each says what idea it gets wrong and names tests
# that exist. Whether each one is really caught is `make mistakes`' job: it builds and runs them
# all (tests/tools/mistakes), and CI runs it after make check.

load helpers

@test "every mistake says what it gets wrong and names tests of its lesson that must fail" {
	local file name lesson description tests test
	for file in "$KIT"/tests/mistakes/*.patch; do
		name=${file##*/}
		lesson=${name%%-*}
		[[ $name =~ ^[0-9][0-9]-[a-z0-9-]+\.patch$ ]] ||
			fail "tests/mistakes/$name: a mistake is named NN-what-it-does.patch, NN its lesson"
		[[ -f $KIT/tests/lesson$lesson.bats ]] || fail "tests/mistakes/$name: there is no lesson $lesson"
		description=$(head -n 1 "$file")
		[[ $description == *.* && $description != caught-by:* && $description != ---* ]] ||
			fail "tests/mistakes/$name: its first line must say, in a sentence, what idea it gets wrong"
		mapfile -t tests < <(sed -n 's/^caught-by: //p' "$file")
		((${#tests[@]})) || fail "tests/mistakes/$name names no test that must fail (caught-by: TEST NAME)"
		for test in "${tests[@]}"; do
			grep -qF "@test \"$test\" {" "$KIT/tests/lesson$lesson.bats" ||
				fail "tests/mistakes/$name: tests/lesson$lesson.bats has no test named '$test'"
		done
		grep -qE '^\+\+\+ b/(solutions/'"$lesson"'-[^/]*/server\.c|lessons/common/[a-z_]+\.c)' "$file" ||
			fail "tests/mistakes/$name must patch solutions/$lesson-*/server.c or the core, lessons/common/"
	done
}

@test "every lesson has at least 8 mistakes that its check must catch" {
	local file lesson count
	for file in "$KIT"/tests/lesson[0-9]*.bats; do
		lesson=${file##*/lesson}
		lesson=${lesson%.bats}
		count=$(find "$KIT/tests/mistakes" -name "$lesson-*.patch" | wc -l)
		((count >= 8)) || fail "lesson $lesson has $count mistakes in tests/mistakes/; it needs at least 8"
	done
}
