#!/usr/bin/env bats
# The kit's own test: every broken variant of lessons 08 and 09, the front door and keep-alive, is
# caught, every run, by its lesson's check and by the valgrind tools that can see it
# (tests/broken.bash says how). A file of its own, beside broken-production.bats, so that the two
# run in parallel.

load helpers
load broken

@test "broken/08-a is caught by lesson 08's check, and by helgrind" {
	check_variant 08-a
}

@test "broken/08-b is caught by lesson 08's check, and by memcheck" {
	check_variant 08-b
}

@test "broken/09-a is caught by lesson 09's check, and by memcheck" {
	check_variant 09-a
}

@test "broken/09-b is caught by lesson 09's check (no valgrind tool can see it)" {
	check_variant 09-b
}
