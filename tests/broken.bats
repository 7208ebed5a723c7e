#!/usr/bin/env bats
# The kit's own test: every broken variant is caught, every run, by its lesson's check.
#
# For broken/NN-x/, the lesson NN test file runs against build/broken/NN-x/server, and:
#   - every test named in broken/NN-x/caught-by must fail;
#   - their failure messages must contain broken/NN-x/behaviour.exp, line by line, in order
#     (the kit's plain-words messages are golden-tested this way);
#   - for each broken/NN-x/TOOL.exp, valgrind's TOOL report, filtered by tests/tools/vgfilter,
#     must contain its lines in order: the report the variant must produce.
# REPEAT=20 make check runs each variant 20 times.

load helpers

# Fails unless the lines of file $1 appear in text $2 in the same order, each as part of a line.
assert_lines_in_order() {
	local line rest=$2
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		if [[ $rest != *"$line"* ]]; then
			fail "$3: expected to find, in order, the lines of $1;" "missing: '$line'" \
				"in:" "$2"
			return 1
		fi
		rest=${rest#*"$line"}
	done <"$1"
}

check_variant() {
	local variant=$1 dir=$KIT/broken/$1 lesson=${1%%-*} names filter name logs exp tool run
	mapfile -t names <"$dir/caught-by"
	filter=$(for name in "${names[@]}"; do regex_quote "$name"; done | paste -sd'|')
	for ((run = 1; run <= ${REPEAT:-1}; run++)); do
		logs=$BATS_TEST_TMPDIR/run$run
		mkdir -p "$logs"
		SERVER=$KIT/build/broken/$variant/server VALGRIND_LOG_DIR=$logs \
			run bats --tap --filter "^($filter)\$" "$KIT/tests/lesson$lesson.bats"
		[[ $output != 1..0* ]] || fail "caught-by names no test of tests/lesson$lesson.bats" "$output"
		for name in "${names[@]}"; do
			[[ $output == *"not ok "[0-9]*" $name"* ]] ||
				fail "run $run: broken/$variant slipped past '$name'" "$output"
		done
		if [[ -f $dir/behaviour.exp ]]; then
			assert_lines_in_order "$dir/behaviour.exp" "$output" "run $run, the failure messages"
		fi
		for exp in "$dir"/*.exp; do
			tool=$(basename "$exp" .exp)
			[[ $tool != behaviour ]] || continue
			[[ -s $logs/$tool.log ]] || fail "run $run: $tool wrote no report for broken/$variant"
			assert_lines_in_order "$exp" "$("$KIT/tests/tools/vgfilter" <"$logs/$tool.log")" \
				"run $run, $tool's report for broken/$variant"
		done
	done
}

@test "every broken variant has its test here, its caught-by list and its explanation in docs/" {
	local dir variant
	for dir in "$KIT"/broken/*/; do
		variant=$(basename "$dir")
		grep -q "check_variant $variant\$" "$BATS_TEST_FILENAME" || fail "broken/$variant has no test in tests/broken.bats"
		[[ -s $dir/caught-by ]] || fail "broken/$variant has no caught-by list"
		[[ -s $KIT/docs/broken/$variant.md ]] || fail "broken/$variant has no docs/broken/$variant.md"
	done
}

@test "broken/02-a is caught by lesson 02's check" {
	check_variant 02-a
}

@test "broken/03-a is caught by lesson 03's check, and by memcheck, helgrind and DRD" {
	check_variant 03-a
}

@test "broken/03-b is caught by lesson 03's check, and by helgrind and DRD" {
	check_variant 03-b
}

@test "broken/03-c is caught by lesson 03's check, and by memcheck, helgrind and DRD" {
	check_variant 03-c
}

@test "broken/03-d is caught by lesson 03's check" {
	check_variant 03-d
}

@test "broken/04-a is caught by lesson 04's check, and by memcheck" {
	check_variant 04-a
}

@test "broken/05-a is caught by lesson 05's check, and by memcheck, helgrind and DRD" {
	check_variant 05-a
}

@test "broken/06-a is caught by lesson 06's check, and by memcheck, helgrind and DRD" {
	check_variant 06-a
}

@test "broken/07-a is caught by lesson 07's check, and by memcheck" {
	check_variant 07-a
}
