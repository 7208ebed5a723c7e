# handoff - build and test every server in the kit.
#
#   make              build every server (lessons/, solutions/, broken/) into build/
#   make CC=clang     the same with clang
#   make check        the kit's whole suite (what CI runs)
#   make check L=03   your own lessons/03-*/server.c against lesson 03's tests, valgrind included;
#                     ONLY='test name' SEED=N runs one test again. Results go to build/progress/
#   make watch L=03   the same check again each time you save lessons/03-*/server.c
#   make progress     every lesson's last result, and the next lesson to do (no test runs)
#   make hint L=03    the lesson text's next hint
#   make compare L=03 your server against the reference, once it passes
#   make reset L=03   the starter as shipped again; your file is kept as a backup
#   make doctor       are the tools the tests need installed, and do they work?
#   make help         the student's targets in five lines
#   make mistakes     the kit proves its checks: every wrong answer in tests/mistakes/ fails
#   make handout      a student kit without the answers (WITH=exercises adds the variants)
#   make grade STUDENT="DIR..."  JUnit and Gradescope results for students' trees (L=NN: one lesson)
#   make variant V=03-a  a find-the-bug exercise: the variant against the tests that catch it
#   make classroom    the tests of the three above (CI runs them after make mistakes)
#   make demo         lesson 01 against lesson 03, then a broken server caught in the act
#   make fuzz         libFuzzer on the request reader and the journal reader (FUZZ_SECONDS=N each)
#   make stress       wrk against every threaded reference, and through nginx; the job log audited
#   make lint         clang-format, shellcheck, and clang's warnings (gcc's: every build)
#   make clean        remove build/
#
# A server's source directory X/NN-name/ builds to build/X/NN-name/server (docs/contract.md).

# Builds use every core unless told otherwise (make -j1).
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

CC      ?= cc
CFLAGS  ?= -g -O1
WARN    := -std=c11 -Wall -Wextra -Wpedantic -D_POSIX_C_SOURCE=200809L
# The kit's own code - the core, the references, the broken variants, the starters as shipped and
# the tools - must build without a warning. Your lessons/NN-name/server.c only warns.
WERROR  := -Werror
LDLIBS  := -pthread
BUILD   := build

COMMON_SRC := $(wildcard lessons/common/*.c)
COMMON_HDR := $(wildcard lessons/common/*.h)
COMMON_LIB := $(BUILD)/common/libhandoff.a
SERVER_DIRS := $(patsubst %/server.c,%,$(wildcard lessons/[0-9]*/server.c solutions/*/server.c broken/*/server.c))
SERVERS := $(addprefix $(BUILD)/,$(addsuffix /server,$(SERVER_DIRS)))
TOOLS   := $(BUILD)/tests/hclient $(BUILD)/tests/signal-safety.so

# The starters exactly as the kit ships them, whatever the student has done to lessons/: a
# handout's copy in shipped/ (a student may commit their work in the handout's repository), else
# from git (origin/HEAD if this is a clone, else HEAD), or the working file outside a checkout.
PRISTINE_REV := $(shell git rev-parse -q --verify origin/HEAD 2>/dev/null || git rev-parse -q --verify HEAD 2>/dev/null)
STARTERS := $(patsubst %/server.c,$(BUILD)/pristine/%/server,$(wildcard lessons/[0-9]*/server.c))

# The references built with the sanitizers (make sanitizers): ASan+UBSan, and TSan.
SANITIZE_asan := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANITIZE_tsan := -fsanitize=thread
# TSan watches threads; the references of lessons 01 and 02 have none.
THREADED_SOLUTIONS := $(filter-out solutions/01-% solutions/02-%,$(wildcard solutions/*))

.PHONY: all check lint demo clean bench sanitizers mistakes fuzz stress FORCE
.PHONY: lesson-build progress compare reset hint watch doctor help handout grade variant classroom
.SECONDARY:
all: $(SERVERS) $(TOOLS)

# The compiler and flags the objects were built with: when they change (make CC=clang after
# make), everything is rebuilt.
COMPILER := $(BUILD)/compiler
$(COMPILER): FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(WARN) $(CFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(WARN) $(CFLAGS) $(LDLIBS)' >$@

$(BUILD)/common/%.o: lessons/common/%.c $(COMMON_HDR) $(COMPILER)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(WERROR) $(CFLAGS) -c -o $@ $<

$(COMMON_LIB): $(patsubst lessons/common/%.c,$(BUILD)/common/%.o,$(COMMON_SRC))
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%/server: %/server.c $(COMMON_LIB) $(COMMON_HDR) $(COMPILER)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(WERROR) $(CFLAGS) -Ilessons/common -o $@ $< $(COMMON_LIB) $(LDLIBS)

$(BUILD)/lessons/%/server: lessons/%/server.c $(COMMON_LIB) $(COMMON_HDR) $(COMPILER)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -Ilessons/common -o $@ $< $(COMMON_LIB) $(LDLIBS)

$(BUILD)/tests/hclient: tests/tools/hclient.c $(COMMON_LIB) $(COMPILER)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(WERROR) $(CFLAGS) -Ilessons/common -o $@ $< $(COMMON_LIB) $(LDLIBS)

# Loaded into the servers under test (tests/helpers.bash): it catches unsafe calls in signal
# handlers.
$(BUILD)/tests/signal-safety.so: tests/tools/signal-safety.c $(COMPILER)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(WERROR) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

$(BUILD)/pristine/%/server.c: FORCE
	@mkdir -p $(@D)
	@{ cat "shipped/$*/server.c" 2>/dev/null || git show "$(PRISTINE_REV):$*/server.c" 2>/dev/null || \
		cat "$*/server.c"; } >$@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(BUILD)/pristine/%/server: $(BUILD)/pristine/%/server.c $(COMMON_LIB) $(COMMON_HDR) $(COMPILER)
	$(CC) $(WARN) $(WERROR) $(CFLAGS) -Ilessons/common -o $@ $< $(COMMON_LIB) $(LDLIBS)

sanitizers: $(COMMON_HDR)
	@$(MAKE) -s BUILD=$(BUILD)/asan CFLAGS="-g -O1 $(SANITIZE_asan)" LDLIBS="-pthread $(SANITIZE_asan)" \
		$(patsubst %,$(BUILD)/asan/%/server,$(wildcard solutions/*))
	@$(MAKE) -s BUILD=$(BUILD)/tsan CFLAGS="-g -O1 $(SANITIZE_tsan)" LDLIBS="-pthread $(SANITIZE_tsan)" \
		$(patsubst %,$(BUILD)/tsan/%/server,$(THREADED_SOLUTIONS))

# The student's loop, one lesson at a time: tests/tools/student behind each target (make help).
LESSON_DIR := $(if $(L),$(wildcard lessons/$(L)-*))
STUDENT := BUILD="$(BUILD)" CC="$(CC)" tests/tools/student

# The classroom's tests build handouts and grade whole trees: they run in make classroom (CI runs
# it after make check), so that make check stays quick.
CLASSROOM_TESTS := $(wildcard tests/handout.bats tests/grade.bats)

# In a student's handout some of the kit's tools are left out (tests/tools/handout).
need = @test -x tests/tools/$(1) || { echo "make $(1): not part of this copy of the kit" >&2; exit 2; }

ifdef L
# The student's check: it checks L and the tools, builds the student's server through
# lesson-build, runs tests/lessonNN.bats, and records the result in build/progress/NN.
check:
	@MAKE="$(MAKE)" $(STUDENT) check "$(L)"

# One lesson, the student's own server.c - and nothing else is built, so another lesson's
# half-written starter cannot get in the way.
lesson-build: $(if $(LESSON_DIR),$(BUILD)/$(LESSON_DIR)/server) $(TOOLS)
else
# The longest files first, so that the parallel run does not end waiting for one of them: the
# kit's own tests, then the lessons from the last (the longest) to the first.
SLOW_TESTS := $(wildcard tests/broken-*.bats tests/sanitizers-*.bats tests/starters.bats)
LESSON_TESTS := $(shell ls -r tests/lesson*.bats)
TESTS := $(SLOW_TESTS) $(LESSON_TESTS) $(filter-out $(SLOW_TESTS) $(LESSON_TESTS) $(CLASSROOM_TESTS),$(wildcard tests/*.bats))
# Not your lessons/ servers: the kit's check runs the starters exactly as shipped instead.
check: $(filter-out $(BUILD)/lessons/%,$(SERVERS)) $(TOOLS) $(STARTERS) sanitizers lint
	@tests/tools/run-bats $(TESTS)
endif

lint:
	@tests/tools/lint

# Coverage-guided fuzzing with clang's libFuzzer (tests/fuzz/): FUZZ_SECONDS per target.
fuzz:
	$(call need,fuzz)
	@BUILD="$(BUILD)" FUZZ_SECONDS="$(FUZZ_SECONDS)" tests/tools/fuzz

# wrk's load against the threaded references, directly and behind nginx; every 202 audited
# against the job log. STRESS_SECONDS per run (a short form runs in CI).
stress: all
	$(call need,stress)
	@BUILD="$(BUILD)" STRESS_SECONDS="$(STRESS_SECONDS)" tests/tools/stress

# The classroom's own tests: a handout built and checked, students' trees graded.
classroom: all
	@tests/tools/run-bats $(CLASSROOM_TESTS)

# progress and reset compare with the starters as shipped, extracted from git (PRISTINE_REV).
progress: $(patsubst %/server.c,$(BUILD)/pristine/%/server.c,$(wildcard lessons/[0-9]*/server.c))
	@$(STUDENT) progress
reset: $(if $(LESSON_DIR),$(BUILD)/pristine/$(LESSON_DIR)/server.c)
	@$(STUDENT) reset "$(L)"
compare: $(if $(LESSON_DIR),$(BUILD)/pristine/$(LESSON_DIR)/server.c)
	@$(STUDENT) compare "$(L)"
hint:
	@$(STUDENT) hint "$(L)"
watch:
	@MAKE="$(MAKE)" $(STUDENT) watch "$(L)"
doctor:
	@CC="$(CC)" tests/tools/doctor
help:
	@$(STUDENT) help

# The classroom (docs/instructors.md): a handout without the answers, a grader for students'
# trees, and the find-the-bug exercises.
handout: all
	$(call need,handout)
	@BUILD="$(BUILD)" tests/tools/handout $(if $(WITH),--with "$(WITH)")
# STUDENT here is the command line's (make grade STUDENT=DIR), not the student tool above.
grade: $(COMMON_LIB) $(TOOLS)
	$(call need,grade)
	@BUILD="$(BUILD)" CC="$(CC)" CFLAGS="$(CFLAGS)" WARN="$(WARN)" L="$(L)" \
		tests/tools/grade $(if $(filter command line,$(origin STUDENT)),$(STUDENT))
# make variant V=NN-x [FIXED=FILE]: only that variant and the test tools are built, so that a
# half-written lessons/ server cannot get in the way.
variant: $(if $(wildcard broken/$(V)/server.c),$(BUILD)/broken/$(V)/server) $(TOOLS)
	$(call need,variant)
	@BUILD="$(BUILD)" CC="$(CC)" CFLAGS="$(CFLAGS)" tests/tools/variant "$(V)" $(if $(FIXED),--fixed "$(FIXED)")

# Every mistake in tests/mistakes/ applied to its reference, built and run against the tests
# that must catch it (tests/tools/mistakes; docs/testing.md). CI runs it after make check.
mistakes: $(COMMON_LIB) $(TOOLS)
	$(call need,mistakes)
	@CC="$(CC)" CFLAGS="$(CFLAGS)" BUILD="$(BUILD)" tests/tools/mistakes $(M)

demo: all
	@tests/tools/demo

# The bench times each lesson's check on the starters as shipped too (docs/bench.md).
bench: all $(STARTERS)
	@BUILD="$(BUILD)" tests/tools/bench

clean:
	rm -rf $(BUILD)
