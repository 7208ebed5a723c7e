
# ---- The handout (tests/tools/handout appends this to the kit's Makefile) ----
#
# The references come compiled (-O2, no debug information) and without their sources, the way
# CS:APP's shell lab ships its reference shell: references/NN-name/server. make copies each to
# build/solutions/NN-name/server, where the lesson texts, make demo, make bench and a lesson's
# tests run without SERVER look for it. They live outside build/ so that make clean, which
# removes build/, cannot lose them: the next make copies them again. Nothing here builds
# solutions/: the handout has no sources to build them from.
REFERENCES := $(patsubst references/%,$(BUILD)/solutions/%,$(wildcard references/*/server))
all: $(REFERENCES)
$(BUILD)/solutions/%/server: references/%/server
	@mkdir -p $(@D)
	cp $< $@

# The handout's make check runs what makes sense without the references' sources: every
# starter, as shipped, fails its lesson's check; every path the texts name exists; the student's
# make targets work; and lint. Your own lesson: make check L=NN.
TESTS := $(wildcard tests/starters.bats tests/docs.bats tests/student.bats)
