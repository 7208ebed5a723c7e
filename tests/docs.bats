#!/usr/bin/env bats
# shellcheck disable=SC2016 # the patterns match backquotes in Markdown, not shell expansions
# The kit's own test: the texts say what the code does. Lesson texts and docs point into the
# code by name - functions as `name()`, files as repo paths - never by line number, and these
# checks keep every such anchor alive.

load helpers

doc_files() {
	ls "$KIT"/README.md "$KIT"/lessons/*/README.md "$KIT"/docs/*.md "$KIT"/docs/broken/*.md \
		"$KIT"/docs/exercises/*.md
}

@test "every function a text names as \`name()\` is defined or called in the kit's code" {
	local missing docs file
	mapfile -t docs < <(doc_files)
	# Every name the kit's C code defines or calls, once. The preprocessor drops the comments
	# first (-fpreprocessed: no header is read, no macro expanded), so a name that only a comment
	# mentions does not count: a text must not point at code that is not there.
	for file in "$KIT"/lessons/*/*.[ch] "$KIT"/solutions/*/*.c "$KIT"/broken/*/*.c "$KIT"/tests/tools/*.c; do
		cc -fpreprocessed -dD -E -P "$file"
	done | grep -oE '[A-Za-z_][A-Za-z0-9_]*[[:space:]]*[(]' | tr -d '( \t' | sort -u >"$BATS_TEST_TMPDIR/known"
	missing=$(grep -o '`[A-Za-z_][A-Za-z0-9_]*()`' "${docs[@]}" | tr -d '`()' | sort -u |
		awk -F: 'NR == FNR { known[$0] = 1; next } !($2 in known)' "$BATS_TEST_TMPDIR/known" -)
	[[ -z $missing ]] || fail "these functions (file: name) are named in a text but are neither defined nor called in the code:" "$missing"
}

@test "every repository path a text names exists" {
	local doc path missing=() docs
	mapfile -t docs < <(doc_files)
	# One grep over every text: "file:`path`" lines, each path once per file.
	while IFS=: read -r doc path; do
		path=${path//\`/}
		[[ $path == *NN* || $path == *'*'* || $path == *X/* || $path == *'<'* ]] && continue
		[[ -e $KIT/$path ]] || missing+=("${doc#"$KIT"/}: $path")
	done < <(grep -oE '`(lessons|solutions|broken|tests|docs)/[^` ]*`' "${docs[@]}" | sort -u)
	((${#missing[@]} == 0)) || fail "these paths are named in a text but do not exist:" "${missing[@]}"
}

@test "each broken variant's explanation quotes the report it must produce" {
	local exp variant line name doc missing=()
	for exp in "$KIT"/broken/*/*.exp; do
		variant=${exp%/*} && variant=${variant##*/}
		name=${exp##*/}
		doc=$(<"$KIT/docs/broken/$variant.md")
		while IFS= read -r line; do
			line=${line#"${line%%[![:space:]]*}"}
			[[ -z $line || $doc == *"$line"* ]] ||
				missing+=("docs/broken/$variant.md lacks '$line' ($name)")
		done <"$exp"
	done
	((${#missing[@]} == 0)) || fail "an explanation no longer matches its stored report:" "${missing[@]}"
}

@test "the README's quick start installs with the script CI uses, and runs make demo and make check" {
	grep -qx 'tests/tools/install && make demo' "$KIT/README.md" ||
		fail "the README's first command should be 'tests/tools/install && make demo'"
	grep -qx 'make check' "$KIT/README.md" || fail "the README's second command should be 'make check'"
	grep -qxE 'tests/tools/install( --extras)?' "$KIT/.ci/run" || fail ".ci/run should install with tests/tools/install (the README's script)"
	grep -qx 'make check' "$KIT/.ci/run" || fail ".ci/run should run the README's test command, make check"
}

@test "no text in the kit is a placeholder" {
	run grep -rniE '\b(TBD|placeholder|lorem ipsum|FIXME|XXX)\b' "$KIT"/README.md "$KIT"/docs "$KIT"/lessons/*/README.md
	((status == 1)) || fail "placeholder text:" "$output"
}
