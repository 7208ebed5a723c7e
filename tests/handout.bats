#!/usr/bin/env bats
# shellcheck disable=SC2016 # the backquotes are Markdown's, in single quotes on purpose
# make handout (tests/tools/handout): the student's kit without the answers. setup_file copies
# the kit as it stands (its committed and its new files) into a scratch git repository, commits
# it, and makes two handouts there, a plain one and one with the exercises; each is extracted
# from its tarball into a directory that no git repository contains, as a student would get it.

load helpers

setup_file() {
	local scratch=$BATS_FILE_TMPDIR/kit file variant
	# bats puts its own directory first on the PATH, where "bats" is its inner script: the
	# handout's make check gets the PATH without it, as a student has (tests/student.bats).
	KIT_PATH=$(tr : '\n' <<<"$PATH" | grep -vxF "$BATS_LIBEXEC" | paste -sd :)
	export KIT_PATH
	git -C "$KIT" rev-parse -q --verify HEAD >/dev/null || skip "the kit is not a git checkout"
	mkdir -p "$scratch"
	git -C "$KIT" ls-files -co --exclude-standard | while IFS= read -r file; do
		[[ -e $KIT/$file ]] && printf '%s\n' "$file"
	done | tar -C "$KIT" -cf - -T - | tar -C "$scratch" -xf -
	# The sheets may not be written yet: the exercise handout needs one per variant.
	for variant in "$scratch"/broken/*/; do
		variant=$(basename "$variant")
		file=$scratch/docs/exercises/$variant.md
		[[ -f $file ]] || { mkdir -p "${file%/*}" && printf '# Find the bug: %s\n' "$variant" >"$file"; }
	done
	git -C "$scratch" init -q --template=
	git -C "$scratch" add -A
	git -C "$scratch" -c user.name=t -c user.email=t@t commit -q -m kit
	in_dir "$scratch" make -s handout >"$BATS_FILE_TMPDIR/plain.out" 2>&1 ||
		fail "make handout fails:" "$(<"$BATS_FILE_TMPDIR/plain.out")"
	extract "$scratch" plain
	in_dir "$scratch" tests/tools/handout --with exercises >"$BATS_FILE_TMPDIR/exercises.out" 2>&1 ||
		fail "make handout WITH=exercises fails:" "$(<"$BATS_FILE_TMPDIR/exercises.out")"
	extract "$scratch" exercises
}

# in_dir DIR COMMAND...: runs COMMAND in DIR, bounded, without what the outer make check or bats
# would pass on (make's jobserver, bats's PATH, a lesson, a filter, a seed), and where git can
# find no repository above DIR.
in_dir() {
	local dir=$1
	shift
	(cd "$dir" && timeout 120 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u L -u ONLY -u SEED -u SERVER \
		GIT_CEILING_DIRECTORIES="$(dirname "$dir")" PATH="$KIT_PATH" "$@")
}

# extract SCRATCH NAME: the tarball made in SCRATCH, extracted into $BATS_FILE_TMPDIR/NAME/.
extract() {
	mkdir -p "$BATS_FILE_TMPDIR/$2"
	tar -xzf "$1/build/handout/handoff.tar.gz" -C "$BATS_FILE_TMPDIR/$2"
	(cd "$BATS_FILE_TMPDIR/$2/handoff" && find . -type f | sort) >"$BATS_FILE_TMPDIR/$2.files"
	(cd "$1/build/handout/handoff" && find . -type f | sort) >"$BATS_FILE_TMPDIR/$2.dir"
}

assert_has() {
	[[ $output == *"$1"* ]] || fail "the output should contain '$1':" "$output"
}

@test "make handout: the kit without solutions/, the answers, the kit's own tests or git; the references compiled" {
	local plain=$BATS_FILE_TMPDIR/plain/handoff files dir name leaks file
	files=$(<"$BATS_FILE_TMPDIR/plain.files")
	[[ -n $files ]] || fail "the handout is empty; make handout said:" "$(<"$BATS_FILE_TMPDIR/plain.out")"
	# Whatever gives an answer away, or tests the answers.
	leaks=$(grep -E '^\./(solutions/|broken/|docs/(broken|exercises|instructors|testing)|\.git(/|$)|\.ci/|handout/|tests/(mistakes|broken|group-commit|sanitizers|failures|handout|grade)|tests/tools/(mistakes|handout|grade))' \
		<<<"$files" || true)
	[[ -z $leaks ]] || fail "the handout holds what it must leave out:" "$leaks"
	# The directory is the tarball.
	diff "$BATS_FILE_TMPDIR/plain.dir" - <<<"$files" ||
		fail "build/handout/handoff/ and the tarball differ"
	# What a student needs.
	for name in Makefile README.md .clang-format docs/contract.md docs/core.md tests/helpers.bash \
		tests/tools/run-bats tests/tools/student tests/tools/demo tests/starters.bats tests/docs.bats; do
		grep -qxF "./$name" <<<"$files" || fail "the handout has no $name"
	done
	# Every starter and lesson test, and every reference compiled - no reference source anywhere.
	for dir in "$KIT"/lessons/[0-9]*/; do
		name=$(basename "$dir")
		grep -qxF "./lessons/$name/server.c" <<<"$files" || fail "no starter lessons/$name/server.c"
		grep -qxF "./tests/lesson${name%%-*}.bats" <<<"$files" || fail "no tests/lesson${name%%-*}.bats"
	done
	for dir in "$KIT"/solutions/*/; do
		name=$(basename "$dir")
		[[ -x $plain/references/$name/server ]] || fail "no compiled reference, references/$name/server"
		! readelf -S "$plain/references/$name/server" | grep -qF .debug_ ||
			fail "references/$name/server has debug information: it holds the source's lines"
	done
	# No file of the handout is a reference's source.
	for file in "$KIT"/solutions/*/server.c; do
		! find "$plain" -name '*.c' -exec cmp -s "$file" {} \; -print | grep -q . ||
			fail "the handout holds a copy of ${file#"$KIT"/}"
	done
	[[ ! -d $plain/solutions ]] || fail "the handout has a solutions/ directory"
	assert_has_no_git "$plain"
}

assert_has_no_git() {
	[[ -z $(find "$1" -name .git) ]] || fail "the handout holds a git repository"
}

@test "in the extracted handout, without git, make check passes: the starters fail as shipped, the docs, the student's targets, lint" {
	local start=$EPOCHREALTIME
	run in_dir "$BATS_FILE_TMPDIR/plain/handoff" make --no-print-directory check
	echo "$output"
	awk -v t0="$start" -v t1="$EPOCHREALTIME" 'BEGIN { printf "(make check in the handout: %.1f s)\n", t1 - t0 }'
	((status == 0)) || fail "make check fails in the handout (status $status)"
	assert_has "the lesson 01 starter, as shipped, fails lesson 01's check"
	assert_has "every repository path a text names exists"
	[[ $output =~ $'\n'([0-9]+)\ passed,\ 0\ failed ]] && ((BASH_REMATCH[1] >= 20)) ||
		fail "make check in the handout should end with 20 or more passed, 0 failed"
	# The lessons' own tests are the student's (make check L=NN), not the handout's check.
	! grep -qE '^(ok|not ok) [0-9]+ [0-9][0-9]: ' <<<"$output" ||
		fail "the handout's make check ran a lesson's tests against the references"
}

@test "make demo in the handout times the two references and leaves the broken server to the exercises" {
	run in_dir "$BATS_FILE_TMPDIR/plain/handoff" make --no-print-directory -s demo
	echo "$output"
	((status == 0)) || fail "make demo fails in the handout (status $status)"
	[[ $output =~ lesson\ 01,\ blocking.*\ ([0-9.]+)\ ms ]] || fail "no time for lesson 01"
	[[ $output =~ lesson\ 03,\ background\ thread.*\ ([0-9.]+)\ ms ]] || fail "no time for lesson 03"
	assert_has "it comes with the find-the-bug exercises"
	[[ $output != *broken/03-a* ]] || fail "the demo names a variant that is not in the handout"
}

@test "make clean in the handout keeps the references: make puts them back in build/solutions/" {
	local kit=$BATS_FILE_TMPDIR/plain/handoff dir
	in_dir "$kit" make -s clean
	[[ ! -e $kit/build ]] || fail "make clean left build/"
	in_dir "$kit" make -s >/dev/null
	for dir in "$kit"/references/*/; do
		cmp -s "$dir/server" "$kit/build/solutions/$(basename "$dir")/server" ||
			fail "make did not copy references/$(basename "$dir")/server to build/solutions/"
	done
	run "$kit/build/solutions/01-blocking/server" --help
	[[ $output == *--port* ]] || fail "the lesson 01 reference does not run: $output"
}

@test "the handout's texts name nothing it leaves out: no Find the bug sections, no docs/broken/, no solutions/ sources" {
	local plain=$BATS_FILE_TMPDIR/plain/handoff
	run grep -rnE '## Find the bug|docs/broken|docs/instructors|(^|[^/])solutions/[0-9]|(^|[^/])broken/' \
		"$plain"/README.md "$plain"/lessons/*/README.md "$plain"/docs
	((status == 1)) || fail "the texts still name what the handout leaves out:" "$output"
	grep -qx 'tests/tools/install && make demo' "$plain/README.md" || fail "the README's first command is gone"
	grep -qx 'make check' "$plain/README.md" || fail "the README's second command is gone"
	grep -q 'The diff between the references of lessons 04 and 05' "$plain/lessons/05-graceful-shutdown/README.md" ||
		fail "lesson 05's diff of the references was not rewritten"
}

@test "make handout WITH=exercises: the variants and their sheets, without caught-by, .exp or docs/broken/; the texts link to the sheets" {
	local kit=$BATS_FILE_TMPDIR/exercises/handoff files variant
	files=$(<"$BATS_FILE_TMPDIR/exercises.files")
	for variant in "$KIT"/broken/*/; do
		variant=$(basename "$variant")
		grep -qxF "./broken/$variant/server.c" <<<"$files" || fail "no broken/$variant/server.c"
		grep -qxF "./docs/exercises/$variant.md" <<<"$files" || fail "no docs/exercises/$variant.md"
	done
	run grep -E '^\./(broken/.*(\.exp|caught-by)|docs/broken/|solutions/)' <<<"$files"
	((status == 1)) || fail "the exercise handout holds answers:" "$output"
	run grep -rn 'docs/broken' "$kit"/README.md "$kit"/lessons "$kit"/docs/*.md "$kit"/tests/tools/demo
	((status == 1)) || fail "a text still points at docs/broken/:" "$output"
	run grep -rnE '\]\([^)]*broken/[^)]*\.md\)' "$kit"/docs/exercises
	((status == 1)) || fail "a sheet still links to its answer in docs/broken/:" "$output"
	grep -qF '[`docs/exercises/02-a.md`](../../docs/exercises/02-a.md)' "$kit/lessons/02-answer-first/README.md" ||
		fail "lesson 02's link to its variant does not point to the sheet"
	run in_dir "$kit" bats --tap "$kit/tests/docs.bats"
	((status == 0)) || fail "tests/docs.bats fails in the exercise handout:" "$output"
}

@test "make handout refuses a text that names what it leaves out, and an unknown WITH" {
	local scratch=$BATS_FILE_TMPDIR/kit
	printf '\nSee `docs/instructors.md`.\n' >>"$scratch/lessons/01-blocking/README.md"
	git -C "$scratch" -c user.name=t -c user.email=t@t commit -q -am leak
	run in_dir "$scratch" tests/tools/handout
	git -C "$scratch" reset -q --hard HEAD~1
	((status != 0)) || fail "make handout wrote a handout whose lesson 01 names docs/instructors.md"
	assert_has "lessons/01-blocking/README.md"
	assert_has "docs/instructors.md"
	run in_dir "$scratch" tests/tools/handout --with answers
	((status == 2)) || fail "--with answers should exit 2, not $status: $output"
	assert_has "the handout can add the exercises"
}
