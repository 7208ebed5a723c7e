#!/usr/bin/env bats
# The grader (make grade STUDENT=DIR; tests/tools/grade): it grades a student's tree with the
# kit's own tests and core, scores each test, and writes Gradescope's results.json and JUnit XML.
#
# setup_file grades lessons 01 and 02 only (L="01 02") of three trees: alone, the tree with the
# references copied into lessons/ (full marks); then two at once, the tree with the starters as
# shipped (their known partial scores) and one with lesson 02 alone, which does not compile. The
# starters' tree also carries a test file that passes everything and a core header that does not
# compile: the grader must use neither.

load helpers

STUDENT_LESSONS=(01-blocking 02-answer-first)

# The starter as the kit ships it (make check extracts it from git), else the working file.
shipped_starter() {
	local pristine=$KIT/build/pristine/lessons/$1/server.c
	if [[ -f $pristine ]]; then cat "$pristine"; else cat "$KIT/lessons/$1/server.c"; fi
}

# make_tree DIR SOURCE: a student's tree, DIR/lessons/NN-name/server.c for the lessons above;
# SOURCE is "reference" or "starter".
make_tree() {
	local name
	for name in "${STUDENT_LESSONS[@]}"; do
		mkdir -p "$1/lessons/$name"
		if [[ $2 == reference ]]; then
			cp "$KIT/solutions/$name/server.c" "$1/lessons/$name/"
		else
			shipped_starter "$name" >"$1/lessons/$name/server.c"
		fi
	done
}

# bats puts its own directory first on the PATH, and there "bats" is its inner script: the grader
# gets the PATH without it, as an instructor has, and nothing of an outer make or this run.
grade() {
	local path
	path=$(tr : '\n' <<<"$PATH" | grep -vxF "$BATS_LIBEXEC" | paste -sd :)
	(cd "$KIT" && timeout 120 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u L -u ONLY -u SEED PATH="$path" \
		make --no-print-directory -s grade "$@" 3>&-)
}

setup_file() {
	local trees=$BATS_FILE_TMPDIR/trees
	make_tree "$trees/reference" reference
	make_tree "$trees/starters" starter
	mkdir -p "$trees/syntax/lessons/02-answer-first"
	shipped_starter 02-answer-first >"$trees/syntax/lessons/02-answer-first/server.c"
	# Quoted in the compiler's message, it tests the JSON's and the XML's escapes too.
	echo 'this line is not C: "a <quote> & a \ backslash";' >>"$trees/syntax/lessons/02-answer-first/server.c"
	# What the grader must not use: the student's own tests, and the student's own core.
	mkdir -p "$trees/starters/tests" "$trees/starters/lessons/common"
	printf '@test "%s" { true; }\n' "01: passes whatever the server does" >"$trees/starters/tests/lesson01.bats"
	printf '#error "the core of the student was used"\n' | tee "$trees/starters/lessons/common/server.h" \
		>"$trees/starters/lessons/01-blocking/server.h"
	GRADE_OUT=$BATS_FILE_TMPDIR/out
	export GRADE_OUT
	grade_run reference "$trees/reference"
	grade_run starters "$trees/starters $trees/syntax"
}

# grade_run NAME STUDENTS: grades lessons 01 and 02 of STUDENTS, and keeps what the grader printed
# and its exit status as NAME.out and NAME.status.
grade_run() {
	grade STUDENT="$2" L="01 02" GRADE_JOBS=2 >"$BATS_FILE_TMPDIR/$1.out" 2>&1 &&
		echo 0 >"$BATS_FILE_TMPDIR/$1.status" || echo $? >"$BATS_FILE_TMPDIR/$1.status"
}

# terminal reference|starters: what the grader printed in setup_file's run of that tree.
terminal() {
	cat "$BATS_FILE_TMPDIR/$1.out"
}

# json_test NAME TEST_NUMBER FIELD: a field of a test in NAME's results.json ("1.2": lesson 01's
# second test).
json_test() {
	python3 - "$GRADE_OUT/$1/results.json" "$2" "$3" <<'EOF'
import json, sys
tests = [t for t in json.load(open(sys.argv[1]))["tests"] if t["number"] == sys.argv[2]]
print(tests[0][sys.argv[3]] if tests else "no such test")
EOF
}

@test "grade: the references score every test, 9 of 9 and 10 of 10" {
	run terminal reference
	[[ $output == $'lesson 01: 9 of 9 (100.0 %)\nlesson 02: 10 of 10 (100.0 %)\nresults: '* ]] ||
		fail "expected a line per lesson, full marks, then where the results are; the grader printed:" "$output"
	run -0 cat "$GRADE_OUT/reference/scores.tsv"
	[[ $output == $'reference\t01\t9\t9\nreference\t02\t10\t10' ]] || fail "scores.tsv says:" "$output"
}

@test "grade: the starters as shipped score 2 of 9 and 3 of 10, with the kit's tests and core, not the student's" {
	run terminal starters
	[[ $output == *$'starters: lesson 01: 2 of 9 (22.2 %)\nstarters: lesson 02: 3 of 10 (30.0 %)'* ]] ||
		fail "expected the starters' known scores (2 of 9, 3 of 10) in the grader's output:" "$output" \
			"(its own tests/lesson01.bats would give 1 of 1; its own server.h would not compile)"
	# A failed test's output is the check's message in words, and how to run it the student's way;
	# not bats' stack trace through the kit's test code.
	run -0 json_test starters 1.2 output
	[[ $output == *"expected status 200"* && $output == *"make check L=01 ONLY='01: answers 200 only after"* ]] ||
		fail "the failed test's output should say what went wrong and how to run it again:" "$output"
	[[ $output != *"in test file"* && $output != *"$GRADE_OUT"* ]] ||
		fail "the failed test's output should hold neither bats' stack trace nor the grader's paths:" "$output"
	[[ $output == *"build/lessons/01-blocking/server --port 8080"* ]] ||
		fail "the failed test's recipe should start the server where the student's make builds it:" "$output"
	run -0 json_test starters 1.1 status
	[[ $output == passed ]] || fail "the starter passes lesson 01's first test, but results.json says $output"
}

@test "grade: a server.c that does not compile scores 0 for its lesson, with the compiler's message" {
	run terminal starters
	[[ $output == *$'syntax: lesson 01: 0 of 9 (0.0 %) - no lessons/01-blocking/server.c\nsyntax: lesson 02: 0 of 10 (0.0 %) - does not compile'* ]] ||
		fail "expected lesson 02 at 0 (it does not compile) and lesson 01 at 0 (it is missing):" "$output"
	local k
	for k in 1 10; do
		run -0 json_test syntax "2.$k" output
		[[ $output == *"does not compile"* && $output == *"lessons/02-answer-first/server.c:"*"error:"* ]] ||
			fail "test 2.$k's output should say that the file does not compile, and quote the compiler:" "$output"
	done
}

@test "grade: exits 0 when every test passed, and non-zero when one failed" {
	[[ $(<"$BATS_FILE_TMPDIR/reference.status") == 0 ]] ||
		fail "the references passed every test, but the grader exited $(<"$BATS_FILE_TMPDIR/reference.status"):" \
			"$(terminal reference)"
	[[ $(<"$BATS_FILE_TMPDIR/starters.status") != 0 ]] ||
		fail "the starters failed tests, but the grader exited 0:" "$(terminal starters)"
}

@test "grade: results.json is Gradescope's format: one test per check, its score, status and output" {
	run python3 - "$GRADE_OUT" <<'EOF'
import json, sys
want = {"reference": (19, 19), "starters": (5, 19), "syntax": (0, 19)}
for name, (score, count) in want.items():
    results = json.load(open(f"{sys.argv[1]}/{name}/results.json"))
    tests = results["tests"]
    assert len(tests) == count, f"{name}: {len(tests)} tests, not {count}"
    for t in tests:
        assert isinstance(t["name"], str) and t["name"][:4] in ("01: ", "02: "), t
        assert t["max_score"] == 1 and t["score"] in (0, 1), t
        assert t["status"] == ("passed" if t["score"] == 1 else "failed"), t
        assert isinstance(t["output"], str) and (t["score"] == 1 or t["output"]), t
    assert results["score"] == sum(t["score"] for t in tests) == score, f"{name}: score {results['score']}"
    assert isinstance(results["execution_time"], int) and isinstance(results["output"], str)
print("ok")
EOF
	[[ $status == 0 && $output == ok ]] || fail "results.json is not as Gradescope reads it:" "$output"
}

@test "grade: junit.xml is well-formed, with one testsuite per lesson from bats' junit formatter" {
	run python3 - "$GRADE_OUT" <<'EOF'
import sys, xml.etree.ElementTree as ET
want = {"reference": (0, 0), "starters": (7, 7), "syntax": (9, 10)}
for name, failures in want.items():
    root = ET.parse(f"{sys.argv[1]}/{name}/junit.xml").getroot()
    assert root.tag == "testsuites", root.tag
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["lesson01.bats", "lesson02.bats"], [s.get("name") for s in suites]
    for suite, tests, failed in zip(suites, (9, 10), failures):
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.get("tests")) == tests, f"{name}: {len(cases)} testcases"
        assert len([c for c in cases if c.find("failure") is not None]) == int(suite.get("failures")) == failed, \
            f"{name} {suite.get('name')}: {suite.get('failures')} failures, not {failed}"
    assert int(root.get("tests")) == 19
print("ok")
EOF
	[[ $status == 0 && $output == ok ]] || fail "junit.xml is not as expected:" "$output"
}

@test "grade: a lesson whose tests run out of time scores what ran, and every other test 0" {
	local tree=$BATS_TEST_TMPDIR/slow GRADE_OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$tree/lessons/01-blocking"
	# A server that says nothing for 3 s: the first test waits for it, past the 1 s allowed.
	printf '#include <unistd.h>\n\nint main(void)\n{\n\tsleep(3);\n\treturn 0;\n}\n' >"$tree/lessons/01-blocking/server.c"
	run -2 grade STUDENT="$tree" L=01 GRADE_TIMEOUT=1 GRADE_OUT="$GRADE_OUT"
	[[ ${lines[0]} == "lesson 01: 0 of 9 (0.0 %) - ran out of time after 1 s" ]] ||
		fail "expected lesson 01 to run out of time; the grader printed:" "$output"
	run -0 json_test slow 1.9 output
	[[ $output == *"ran out of time"* ]] || fail "a test that did not run should say why; it says:" "$output"
	run -0 python3 -c 'import sys, xml.etree.ElementTree as ET; print(len(ET.parse(sys.argv[1]).findall(".//testcase")))' \
		"$GRADE_OUT/slow/junit.xml"
	[[ $output == 9 ]] || fail "junit.xml should still list lesson 01's 9 tests; it lists $output"
}

@test "grade: a wrong command says what is wrong, and grades nothing" {
	run -2 grade
	[[ $output == *"make grade needs the students' trees: make grade STUDENT=DIR"* ]] || fail "$output"
	run -2 grade STUDENT="$BATS_FILE_TMPDIR/trees/reference" L=1
	[[ $output == *"did you mean L=01?"* ]] || fail "$output"
	run -2 grade STUDENT="$BATS_FILE_TMPDIR/no-such-tree"
	[[ $output == *"is not a directory"* ]] || fail "$output"
	run -2 grade STUDENT="$BATS_FILE_TMPDIR/trees/reference $BATS_FILE_TMPDIR/trees/reference"
	[[ $output == *"two students are named reference"* ]] || fail "$output"
}
