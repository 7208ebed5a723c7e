#!/usr/bin/env bats
# The find-the-bug exercises: make variant V=NN-x (tests/tools/variant) and the sheets in
# docs/exercises/.
#
# make variant runs in a copy of the parts of the kit it needs (the Makefile, the core, two
# variants, lesson 02's reference, the lesson files of lessons 02 and 03 and their helpers), with
# the objects make has built already, so that a test may change a variant and nothing it writes
# lands in the kit.

load helpers

VARIANTS=(02-a 03-c)

setup_file() {
	local copy=$BATS_FILE_TMPDIR/kit variant file
	# bats puts its own directory first on the PATH, and there "bats" is its inner script: the
	# copy gets the PATH without it, as a student has (tests/student.bats does the same).
	KIT_PATH=$(tr : '\n' <<<"$PATH" | grep -vxF "$BATS_LIBEXEC" | paste -sd :)
	export KIT_PATH
	mkdir -p "$copy/lessons" "$copy/broken" "$copy/solutions" "$copy/tests/tools" "$copy/build/broken"
	cp -a "$KIT/Makefile" "$copy/"
	cp -a "$KIT/lessons/common" "$copy/lessons/"
	cp -a "$KIT/solutions/02-answer-first" "$copy/solutions/"
	for file in helpers.bash contract.bash valgrind.supp lesson02.bats lesson03.bats; do
		cp -a "$KIT/tests/$file" "$copy/tests/"
	done
	for file in variant run-bats vgfilter hclient.c signal-safety.c; do
		cp -a "$KIT/tests/tools/$file" "$copy/tests/tools/"
	done
	# What make has built, with its times, so that make finds it up to date.
	for file in compiler common tests; do
		[[ ! -e $KIT/build/$file ]] || cp -a "$KIT/build/$file" "$copy/build/"
	done
	for variant in "${VARIANTS[@]}"; do
		cp -a "$KIT/broken/$variant" "$copy/broken/"
		[[ ! -e $KIT/build/broken/$variant ]] || cp -a "$KIT/build/broken/$variant" "$copy/build/broken/"
	done
}

setup() {
	COPY=$BATS_TEST_TMPDIR/kit
	cp -a "$BATS_FILE_TMPDIR/kit" "$COPY"
}

# in_copy COMMAND...: runs COMMAND in the copy, bounded, without what the outer make check or
# bats would pass on (make's jobserver, bats's PATH, a variant).
in_copy() {
	(cd "$COPY" && timeout 120 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u V -u FIXED PATH="$KIT_PATH" "$@")
}

# assert_has TEXT: $output holds TEXT as one of its lines, or as part of one.
assert_has() {
	[[ $output == *"$1"* ]] || fail "the output should say: $1" "it said:" "$output"
}

@test "make variant V=03-c runs the tests its caught-by names and keeps memcheck's full report" {
	rm "$COPY/build/broken/03-c/server" # make variant builds the variant it runs
	run in_copy make --no-print-directory variant V=03-c
	((status == 0)) || fail "make variant V=03-c should exit 0 (the variant was caught), not $status:" "$output"
	# Exactly the two tests of broken/03-c/caught-by, both failing.
	assert_has "broken/03-c against the tests of tests/lesson03.bats that must catch it"
	assert_has $'\n1..2\n'
	assert_has "not ok 1 03: each job logs the bytes its own client sent, after the buffer was reused"
	assert_has "not ok 2 03: memcheck: no job reads freed or released memory, and nothing leaks"
	# memcheck's report: whole under build/variants/03-c/, and filtered (no addresses) in the output.
	local log=$COPY/build/variants/03-c/test2-memcheck.log
	[[ -s $log ]] || fail "no memcheck report kept at build/variants/03-c/test2-memcheck.log"
	grep -q '^==[0-9]*== Invalid read of size 1' "$log" || fail "the kept report is not memcheck's whole one:" "$(cat "$log")"
	assert_has "test2-memcheck.log   '03: memcheck: no job reads freed or released memory, and nothing leaks'"
	assert_has "# Invalid read of size 1"
	# Job A's block or job B's, 300 or 200 bytes: whichever job the scheduler runs first.
	[[ $output =~ "#  Address 0x... is 0 bytes inside a block of size "(300|200)" free'd" ]] ||
		fail "the output should show memcheck's report of a read of a freed block:" "$output"
	assert_has "#    handle_client (server.c:58)"
	[[ ${output##*$'\n'} == "to try your fix, in a copy of broken/03-c/server.c: make variant V=03-c FIXED=your-copy.c" ]] ||
		fail "the last line should say how to try a fix; the output:" "$output"
	assert_has $'\nbroken/03-c is caught: 2 of 2 tests failed\n'
}

@test "without caught-by, as in a handout, make variant runs the variant's whole lesson file" {
	rm "$COPY/broken/02-a/caught-by"
	run in_copy make --no-print-directory variant V=02-a
	((status == 0)) || fail "make variant V=02-a should exit 0 (the variant was caught), not $status:" "$output"
	assert_has "broken/02-a against all of tests/lesson02.bats:"
	assert_has $'\n1..10\n'
	assert_has "not ok 4 02: the whole 202 arrives even when the client sent more than the server read"
	# Lesson 02's memcheck test ran, passed, and left an empty report: valgrind saw nothing.
	assert_has "ok 10 02: memcheck finds no errors and no leaks"
	assert_has "valgrind's reports in build/variants/02-a/ are empty: either it found nothing, or the"
	assert_has "broken/02-a is caught: "
}

@test "a variant that passes the tests that must catch it is reported as not caught (exit 1)" {
	cp "$COPY/solutions/02-answer-first/server.c" "$COPY/broken/02-a/server.c"
	in_copy make -s build/broken/02-a/server
	run in_copy tests/tools/variant 02-a
	((status == 1)) || fail "a variant that is not caught should exit 1, not $status:" "$output"
	assert_has "ok 1 02: the whole 202 arrives even when the client sent more than the server read"
	assert_has "no valgrind test ran"
	assert_has "broken/02-a passed every test it ran: it is not caught (was broken/02-a/server.c changed?)"
}

@test "FIXED= builds the fix and runs the whole lesson file; a fix that does not compile exits 1" {
	run in_copy make --no-print-directory variant V=02-a FIXED=solutions/02-answer-first/server.c
	((status == 0)) || fail "the reference as a fix should pass, exit 0, not $status:" "$output"
	assert_has "building solutions/02-answer-first/server.c as build/variants/02-a/fixed/server"
	assert_has "your fix of broken/02-a against all of tests/lesson02.bats:"
	assert_has "fixed: solutions/02-answer-first/server.c passes all 10 tests of tests/lesson02.bats"

	printf 'int main(void)\n{\n\treturn 0\n}\n' >"$COPY/mine.c"
	run in_copy tests/tools/variant 02-a --fixed mine.c
	((status == 1)) || fail "a fix that does not compile should exit 1, not $status:" "$output"
	assert_has "mine.c:3:"
	assert_has "error:"
	assert_has "your mine.c does not build: the compiler says why, above"
	[[ $output != *"1.."* ]] || fail "no test should run when the fix does not compile:" "$output"
}

@test "a missing or unknown V says which variants there are, and exits 2" {
	local list=$'\n  02-a\n  03-c'
	run in_copy tests/tools/variant ''
	((status == 2)) || fail "no V should exit 2, not $status:" "$output"
	assert_has "make variant needs a variant: make variant V=03-a; the variants are:$list"
	run in_copy tests/tools/variant 99-z
	((status == 2)) || fail "V=99-z should exit 2, not $status:" "$output"
	assert_has "make variant V=99-z: there is no broken/99-z/server.c; the variants are:$list"
	run in_copy tests/tools/variant 3-c
	((status == 2)) || fail "V=3-c should exit 2, not $status:" "$output"
	assert_has "make variant V=3-c: did you mean V=03-c?"
	# Through make, with nothing built for it.
	run in_copy make --no-print-directory variant V=nope
	((status != 0)) || fail "make variant V=nope should fail:" "$output"
	assert_has "make variant V=nope: there is no broken/nope/server.c; the variants are:$list"
	[[ ! -e $COPY/build/broken/nope ]] || fail "make variant V=nope built something under build/broken/nope"
}

@test "every variant has an exercise sheet that runs it, and the tests a sheet names exist" {
	local dir variant sheet name missing=()
	# shellcheck disable=SC2016 # the pattern matches backquotes in Markdown
	for dir in "$KIT"/broken/*/; do
		variant=$(basename "$dir")
		sheet=$KIT/docs/exercises/$variant.md
		if [[ ! -f $sheet ]]; then
			missing+=("broken/$variant has no sheet, docs/exercises/$variant.md")
			continue
		fi
		grep -qF "make variant V=$variant" "$sheet" ||
			missing+=("docs/exercises/$variant.md does not say how to run it: make variant V=$variant")
		while IFS= read -r name; do
			grep -qF "@test \"$name\" {" "$KIT/tests/lesson${variant%%-*}.bats" ||
				missing+=("docs/exercises/$variant.md names a test that tests/lesson${variant%%-*}.bats lacks: '$name'")
		done < <(grep -oE '`[0-9]{2}: [^`]+`' "$sheet" | tr -d '`' | sort -u)
	done
	((${#missing[@]} == 0)) || fail "${missing[@]}"
}
