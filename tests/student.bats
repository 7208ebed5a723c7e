#!/usr/bin/env bats
# The student's loop (make help; tests/tools/student and tests/tools/doctor): what make check L=NN
# says and records, and make progress, compare, reset, hint, watch, doctor and help.
#
# No test here runs a real lesson's check. Each runs make in its own copy of a tiny kit built in
# setup_file: the kit's Makefile and scripts, a core of one function, and three lessons whose
# server passes its lesson's main test once it returns 0, as the reference does and the starter
# does not. Only the doctor's test and the hint texts' test read the real kit, without writing.

load helpers

LESSONS=(01-first 02-second 03-third)
MAIN_TEST="the server exits 0 (the idea of the lesson)"

setup_file() {
	local tiny=$BATS_FILE_TMPDIR/tiny name n at=@
	# bats puts its own directory first on the PATH, and there "bats" is its inner script, which
	# needs what the outer one exports and make does not pass on: the tiny kit gets the PATH
	# without it, as a student has.
	KIT_PATH=$(tr : '\n' <<<"$PATH" | grep -vxF "$BATS_LIBEXEC" | paste -sd :)
	export KIT_PATH
	mkdir -p "$tiny/lessons/common" "$tiny/tests/tools"
	cp "$KIT/Makefile" "$tiny/"
	cp "$KIT/tests/tools/student" "$KIT/tests/tools/doctor" "$KIT/tests/tools/run-bats" "$tiny/tests/tools/"
	printf 'int core_answer(void);\n' >"$tiny/lessons/common/core.h"
	printf '#include "core.h"\n\nint core_answer(void)\n{\n\treturn 0;\n}\n' >"$tiny/lessons/common/core.c"
	printf 'int main(void)\n{\n\treturn 0;\n}\n' >"$tiny/tests/tools/hclient.c"
	printf 'int signal_safety_unused;\n' >"$tiny/tests/tools/signal-safety.c"
	for name in "${LESSONS[@]}"; do
		n=${name%%-*}
		mkdir -p "$tiny/lessons/$name" "$tiny/solutions/$name"
		printf '#include "core.h"\n\nint main(void)\n{\n\treturn 1; /* TODO */\n}\n' >"$tiny/lessons/$name/server.c"
		printf '#include "core.h"\n\nint main(void)\n{\n\treturn core_answer();\n}\n' >"$tiny/solutions/$name/server.c"
		printf '# Lesson %s\n\nNothing to read.\n' "$n" >"$tiny/lessons/$name/README.md"
		# The first test prints a seed, as the kit's random-body tests do, and writes down the
		# SEED it was given; the file calls for valgrind as a real lesson file does.
		# (The @ stays out of the first column: bats would take the lines for this file's tests.)
		cat >"$tiny/tests/lesson$n.bats" <<EOF
#!/usr/bin/env bats
# contract_valgrind_basic memcheck 200
${at}test "$n: $MAIN_TEST" {
	echo "random bodies from seed \${SEED:-42}"
	echo "\${SEED:-none}" >"\$BATS_TEST_DIRNAME/../build/seed-seen"
	"\$SERVER"
}
${at}test "$n: answers (twice)" { true; }
${at}test "$n: survives" { true; }
EOF
	done
	cat >"$tiny/lessons/01-first/README.md" <<'EOF'
# Lesson 01

## Hints

- The first hint,
  on two lines.
- The second hint shows a command:

  ```
  $ make check L=01
  ```

  and goes on after it.
- The third hint.

## Reflect

- Not a hint.
EOF
	# Few files to copy for each test: no hook samples, and the objects in one pack.
	git -C "$tiny" init -q --template=
	git -C "$tiny" add .
	git -C "$tiny" -c user.name=t -c user.email=t@t commit -q -m tiny
	git -C "$tiny" gc -q
	# The core and the tools once, so that each test's copy has nothing to build but its server.
	in_kit "$tiny" make lesson-build L=01 >/dev/null

	# A PATH without valgrind: the directories that hold it are replaced by copies in symbolic
	# links, each without it. A thousand links can take a second on a disk, so they go to
	# /dev/shm, a memory file system, where there is one.
	local dir real mirror path=() dirs
	MIRRORS=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$BATS_FILE_TMPDIR")
	export MIRRORS
	IFS=: read -ra dirs <<<"$KIT_PATH"
	for dir in "${dirs[@]}"; do
		if [[ -e $dir/valgrind ]]; then
			real=$(realpath "$dir")
			mirror=$MIRRORS/${real//\//_}
			if [[ ! -d $mirror ]]; then
				mkdir -p "$mirror"
				ln -s "$real"/* "$mirror"/
				rm "$mirror/valgrind"
			fi
			dir=$mirror
		fi
		path+=("$dir")
	done
	NO_VALGRIND_PATH=$(IFS=: && echo "${path[*]}")
	export NO_VALGRIND_PATH
}

teardown_file() {
	rm -rf "$MIRRORS"
}

setup() {
	TINY=$BATS_TEST_TMPDIR/kit
	cp -a "$BATS_FILE_TMPDIR/tiny" "$TINY"
}

# in_kit DIR COMMAND...: runs COMMAND in DIR, bounded, without what the outer make check, bats or
# the caller's shell would pass on (make's jobserver, bats's PATH, a lesson, a test filter, a seed).
in_kit() {
	local dir=$1
	shift
	(cd "$dir" && timeout 60 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u L -u ONLY -u SEED PATH="$KIT_PATH" "$@")
}

tiny_make() {
	in_kit "$TINY" make --no-print-directory "$@"
}

hash_of() {
	sha256sum <"$TINY/$1" | cut -c 1-64
}

# record NN HASH PASSED FAILED TESTS: a result as make check L=NN writes it.
record() {
	mkdir -p "$TINY/build/progress"
	printf 'sha256=%s\npassed=%s\nfailed=%s\ntests=%s\nbuild=ok\n' "${@:2}" >"$TINY/build/progress/$1"
}

solve() {
	cp "$TINY/solutions/$1/server.c" "$TINY/lessons/$1/server.c"
}

# assert_has TEXT: $output holds TEXT as one of its lines, or as part of one.
assert_has() {
	[[ $output == *"$1"* ]] || fail "the output should say: $1" "it said:" "$output"
}

assert_lacks() {
	[[ $output != *"$1"* ]] || fail "the output should not say: $1" "it said:" "$output"
}

@test "check L=NN: a pass says the lesson is done, what comes next and make compare, and records the result with the file's hash" {
	solve 01-first
	run tiny_make check L=01
	((status == 0)) || fail "make check L=01 should pass (status $status):" "$output"
	assert_has "3 passed, 0 failed"
	assert_has "lesson 01 done — next: lesson 02 (lessons/02-second/README.md)"
	assert_has "compare your server with the reference: make compare L=01"
	run cat "$TINY/build/progress/01"
	assert_has "sha256=$(hash_of lessons/01-first/server.c)"
	assert_has $'passed=3\nfailed=0\ntests=3'

	solve 03-third
	run tiny_make check L=03
	assert_has "lesson 03 done — that was the last lesson; still to do: 02 (make progress)"
	solve 02-second
	record 02 "$(hash_of lessons/02-second/server.c)" 3 0 3
	run tiny_make check L=03
	assert_has "lesson 03 done — that was the last lesson, and every lesson passes: the course is finished"
}

@test "check L=NN: a failure records n of m, names the first failed test to run alone with its seed; a server that does not build is recorded too" {
	run tiny_make check L=01
	((status == 2)) || fail "make check L=01 should fail with the starter (status $status):" "$output"
	assert_has "2 passed, 1 failed"
	assert_has "to run the first failed test alone: make check L=01 ONLY='01: $MAIN_TEST' SEED=42"
	assert_lacks "done"
	run cat "$TINY/build/progress/01"
	assert_has $'passed=2\nfailed=1\ntests=3\nbuild=ok'

	printf 'int main(void) { return }\n' >"$TINY/lessons/01-first/server.c"
	run tiny_make check L=01
	((status == 2)) || fail "a server that does not build should fail the check (status $status):" "$output"
	assert_has "your lessons/01-first/server.c does not build: the compiler says why, above"
	run cat "$TINY/build/progress/01"
	assert_has "sha256=$(hash_of lessons/01-first/server.c)"
	assert_has "build=failed"
}

@test "check L=1 asks whether L=01 was meant, L=99 says there is no such lesson, both exit 2 before any build or record" {
	rm -rf "$TINY/build"
	run tiny_make check L=1
	((status == 2)) || fail "make check L=1 should exit 2, not $status:" "$output"
	assert_has "make check L=1: did you mean L=01?"
	run tiny_make check L=99
	((status == 2)) || fail "make check L=99 should exit 2, not $status:" "$output"
	assert_has "make check L=99: there is no lessons/99-*/ directory"
	run tiny_make hint L=3
	((status == 2)) || fail "make hint L=3 should exit 2, not $status:" "$output"
	assert_has "make hint L=3: did you mean L=03?"
	[[ ! -e $TINY/build ]] || fail "nothing should have been built or recorded:" "$(find "$TINY/build")"
}

@test "check L=NN ONLY='exact name' runs that test alone, parentheses and all, with SEED; ONLY can be a pattern; such a run is not recorded" {
	run tiny_make check L=01 SEED=123 ONLY="01: $MAIN_TEST"
	((status == 2)) || fail "the starter should fail '01: $MAIN_TEST' (status $status):" "$output"
	assert_has $'1..1\nnot ok 1 01: '"$MAIN_TEST"
	assert_has "0 passed, 1 failed"
	assert_has "not recorded; make check L=01 runs them all"
	[[ $(<"$TINY/build/seed-seen") == 123 ]] || fail "the test should have seen SEED=123, not $(<"$TINY/build/seed-seen")"
	[[ ! -e $TINY/build/progress/01 ]] || fail "a run of some of the tests was recorded:" "$(<"$TINY/build/progress/01")"

	run tiny_make check L=01 ONLY='answers .twice.$'
	((status == 0)) || fail "ONLY='answers .twice.\$' should run one test, which passes (status $status):" "$output"
	assert_has $'1..1\nok 1 01: answers (twice)'

	run tiny_make check L=01 ONLY='no such test'
	((status == 2)) || fail "an ONLY that matches nothing should exit 2, not $status:" "$output"
	assert_has "ONLY='no such test' matches no test of tests/lesson01.bats"
	assert_has "  01: survives"
}

@test "a missing tool stops make check before any test, in words that name it and make doctor; for every lesson" {
	run in_kit "$TINY" env PATH="$NO_VALGRIND_PATH" make --no-print-directory check L=01
	((status == 2)) || fail "make check without valgrind should exit 2, not $status:" "$output"
	assert_has "valgrind is not installed, and the tests of tests/lesson01.bats need it: run make doctor"
	assert_lacks "passed,"
	[[ ! -e $TINY/build/progress/01 ]] || fail "a check that did not run was recorded"

	local file
	for file in "$KIT"/tests/lesson[0-9]*.bats; do
		run env PATH="$NO_VALGRIND_PATH" "$KIT/tests/tools/doctor" --for "$file"
		((status == 2)) || fail "the check of ${file##*/} would run without valgrind (status $status)"
		assert_has "valgrind is not installed"
	done
}

@test "progress: ✓, ✗ n of m, stale and not started, from the records alone, and the next lesson to do" {
	run tiny_make progress
	((status == 0)) || fail "make progress failed (status $status):" "$output"
	assert_has "· 01-first                   not started"
	assert_has "· 03-third                   not started"
	assert_has "next: lesson 01 (lessons/01-first/README.md), then make check L=01"

	# Results no run of these three tests could give: progress reads them, and runs nothing.
	solve 01-first
	record 01 "$(hash_of lessons/01-first/server.c)" 7 0 7
	echo '/* mine */' >>"$TINY/lessons/02-second/server.c"
	record 02 "$(hash_of lessons/02-second/server.c)" 5 2 7
	record 03 "$(hash_of lessons/03-third/server.c)" 7 0 7
	echo '/* mine */' >>"$TINY/lessons/03-third/server.c"
	run tiny_make progress
	assert_has "✓ 01-first                   passed (7 of 7)"
	assert_has "✗ 02-second                  5 of 7 passed"
	assert_has "~ 03-third                   stale: server.c changed since its last check (7 of 7 passed then)"
	assert_has "next: lesson 02 (lessons/02-second/README.md), then make check L=02"

	# A record of the starter as shipped: the lesson is not started, whatever the record says.
	git -C "$TINY" checkout -q lessons/01-first/server.c
	record 01 "$(hash_of lessons/01-first/server.c)" 7 0 7
	run tiny_make progress
	assert_has "· 01-first                   not started"
}

@test "compare: refused before the lesson passes, diff -u against the reference once it does, refused again once the file changes" {
	run tiny_make compare L=01
	((status != 0)) || fail "make compare L=01 should refuse with the starter:" "$output"
	assert_has "pass make check L=01 first: comparing before you pass gives the answer away"

	sed -i 's|return 1; /\* TODO \*/|return core_answer(); /* mine */|' "$TINY/lessons/01-first/server.c"
	record 01 "$(hash_of lessons/01-first/server.c)" 3 0 3
	run tiny_make compare L=01
	((status == 0)) || fail "make compare L=01 should show the diff once the lesson passes (status $status):" "$output"
	assert_has "--- lessons/01-first/server.c"
	assert_has "+++ solutions/01-first/server.c"
	assert_has $'-\treturn core_answer(); /* mine */\n+\treturn core_answer();'

	echo '/* more */' >>"$TINY/lessons/01-first/server.c"
	run tiny_make compare L=01
	((status != 0)) || fail "make compare L=01 should refuse once the file changed:" "$output"
	assert_has "your lessons/01-first/server.c changed since it passed: make check L=01 again, then make compare L=01"
}

@test "reset: the starter comes back from git, the student's file is kept, and the output says where" {
	local backup
	printf 'int main(void) { return 0; } /* mine */\n' >"$TINY/lessons/02-second/server.c"
	# A committed change of the student's is theirs too: the starter comes from the kit's revision.
	git -C "$TINY" -c user.name=t -c user.email=t@t commit -q -am mine
	git -C "$TINY" update-ref refs/remotes/origin/HEAD HEAD~1
	run tiny_make reset L=02
	((status == 0)) || fail "make reset L=02 failed (status $status):" "$output"
	[[ $(<"$TINY/lessons/02-second/server.c") == $(git -C "$TINY" show HEAD~1:lessons/02-second/server.c) ]] ||
		fail "lessons/02-second/server.c is not the starter as shipped:" "$(<"$TINY/lessons/02-second/server.c")"
	backup=$(grep -o 'lessons/02-second/server\.c\.backup-[0-9-]*' <<<"$output") ||
		fail "the output should name the backup:" "$output"
	[[ $(<"$TINY/$backup") == *'/* mine */'* ]] || fail "the backup $backup does not hold the student's file"

	run tiny_make reset L=02
	assert_has "lessons/02-second/server.c is the starter as shipped already: nothing to reset"
	[[ $(find "$TINY/lessons/02-second" -name 'server.c.backup-*' | wc -l) == 1 ]] ||
		fail "a reset with nothing to reset made another backup"
}

@test "hint: the hints one at a time, 'hint K of N', remembered under build/, and no more after the last" {
	run tiny_make hint L=01
	assert_has $'hint 1 of 3, lesson 01:\n\nThe first hint,\non two lines.\n\nmake hint L=01 shows the next one'
	run tiny_make hint L=01
	assert_has $'hint 2 of 3, lesson 01:\n\nThe second hint shows a command:\n\n```\n$ make check L=01\n```\n\nand goes on after it.\n\nmake hint L=01'
	[[ $(<"$TINY/build/hints/01") == 2 ]] || fail "build/hints/01 should say 2"
	run tiny_make hint L=01
	assert_has $'hint 3 of 3, lesson 01:\n\nThe third hint.\n\nthat was the last hint'
	run tiny_make hint L=01
	assert_has "no more hints for lesson 01: you have seen all 3 (they are in lessons/01-first/README.md, under Hints)"
	run tiny_make hint L=02
	assert_has "the text of lesson 02, lessons/02-second/README.md, has no hints"
}

@test "every lesson text has a '## Hints' section of at least three bullet items, as make hint reads them" {
	local dir n count
	for dir in "$KIT"/lessons/[0-9]*/; do
		n=$(basename "$dir") && n=${n%%-*}
		count=$("$KIT/tests/tools/student" hint-count "$n")
		((count >= 3)) || fail "make hint L=$n finds $count hint(s) in lessons/$(basename "$dir")/README.md:" \
			"it reads the bullet items ('- ') of its '## Hints' section"
	done
}

@test "watch: checks, waits for a save, checks again, and stops after WATCH_RUNS checks" {
	local out=$BATS_TEST_TMPDIR/watch.out pid
	in_kit "$TINY" env WATCH_RUNS=2 WATCH_POLL=0.05 make --no-print-directory watch L=01 \
		>"$out" 2>&1 3>&- &
	pid=$!
	SECONDS=0
	until grep -q 'watching lessons/01-first/server.c' "$out"; do
		((SECONDS < 20)) || fail "make watch never said it was watching:" "$(<"$out")"
		kill -0 "$pid" 2>/dev/null || fail "make watch ended before it watched:" "$(<"$out")"
		sleep 0.02
	done
	solve 01-first
	# Bounded: a watch that never sees the save must fail the test, not hang make check.
	SECONDS=0
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < 30)) || { pkill -P "$pid"; kill "$pid"; fail "30 s after the save, make watch" \
			"had not checked again (WATCH_RUNS=2):" "$(<"$out")"; }
		sleep 0.02
	done
	wait "$pid" || fail "make watch ended with status $?:" "$(<"$out")"
	output=$(<"$out")
	assert_has "2 passed, 1 failed"
	# inotifywait where it is installed, else a look at the file every WATCH_POLL seconds.
	[[ $output == *$'watching lessons/01-first/server.c: save it to check again, Ctrl-C to stop ('@(inotify|poll)$')\nlessons/01-first/server.c changed: checking again'* ]] ||
		fail "make watch should say that it watches the file, then that the file changed:" "$output"
	assert_has "3 passed, 0 failed"
	assert_has "lesson 01 done"
}

@test "doctor: ✓ for the tools on the PATH, ✗ with its package and the install command for one hidden from it" {
	run env PATH="$NO_VALGRIND_PATH" "$KIT/tests/tools/doctor"
	((status == 1)) || fail "make doctor without valgrind should exit 1, not $status:" "$output"
	assert_has "✗ valgrind        not installed (every lesson's check runs your server under it): sudo apt-get install valgrind"
	assert_has "problem(s): tests/tools/install installs every tool the kit needs"
	assert_has "✓ bats"
	assert_has "✓ /proc syscall"
}

@test "help: the student's targets in five lines" {
	local target
	run tiny_make help
	((status == 0)) || fail "make help failed (status $status):" "$output"
	((${#lines[@]} == 5)) || fail "make help should say it in five lines, not ${#lines[@]}:" "$output"
	for target in "check L=01" "watch L=01" "hint L=01" progress "compare L=01" "reset L=01" doctor; do
		assert_has "make $target"
	done
}
