# tests/broken.bash - shared by the broken-*.bats files: the kit's own test that every broken
# variant is caught, every run, by its lesson's check.
#
# For broken/NN-x/, the lesson NN test file runs against build/broken/NN-x/server, and:
#   - every test named in broken/NN-x/caught-by must fail;
#   - their failure messages must contain broken/NN-x/behaviour.exp, line by line, in order
#     (the kit's plain-words messages are golden-tested this way);
#   - for each broken/NN-x/TOOL.exp, valgrind's TOOL report, filtered by tests/tools/vgfilter,
#     must contain its lines in order: the report the variant must produce.
# REPEAT=20 make check runs each variant 20 times.
# shellcheck shell=bash disable=SC2154 # bats' run sets $output

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
	[[ -x $KIT/build/broken/$variant/server ]] || fail "broken/$variant is not built: run make"
	mapfile -t names <"$dir/caught-by"
	filter=$(for name in "${names[@]}"; do regex_quote "$name"; done | paste -sd'|')
	for ((run = 1; run <= ${REPEAT:-1}; run++)); do
		logs=$BATS_TEST_TMPDIR/run$run
		mkdir -p "$logs"
		SERVER=$KIT/build/broken/$variant/server VALGRIND_LOG_DIR=$logs \
			run bats --tap --filter "^($filter)\$" "$KIT/tests/lesson$lesson.bats"
		[[ $output != 1..0* ]] || fail "caught-by names no test of tests/lesson$lesson.bats" "$output"
		for name in "${names[@]}"; do
			[[ $(tap_status "$output" "$name") == "not ok" ]] ||
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

