#!/usr/bin/env bats
# The kit's own test: every broken variant of lessons 02 and 03 is caught, every run, by its
# lesson's check and by the valgrind tools that can see it (tests/broken.bash says how).

load helpers
load broken

@test "every broken variant has its test, its caught-by list and its explanation in docs/" {
	local dir variant
	for dir in "$KIT"/broken/*/; do
		variant=$(basename "$dir")
		cat "$KIT"/tests/broken-*.bats | grep -q "check_variant $variant\$" ||
			fail "broken/$variant has no test in tests/broken-*.bats"
		[[ -s $dir/caught-by ]] || fail "broken/$variant has no caught-by list"
		[[ -s $KIT/docs/broken/$variant.md ]] || fail "broken/$variant has no docs/broken/$variant.md"
	done
}

@test "broken/02-a is caught by lesson 02's check" {
	check_variant 02-a
}

@test "broken/03-a is caught by lesson 03's check, and by memcheck and helgrind" {
	check_variant 03-a
}

@test "broken/03-b is caught by lesson 03's check, and by helgrind and DRD" {
	check_variant 03-b
}

@test "broken/03-c is caught by lesson 03's check, and by memcheck" {
	check_variant 03-c
}

@test "broken/03-d is caught by lesson 03's check" {
	check_variant 03-d
}
