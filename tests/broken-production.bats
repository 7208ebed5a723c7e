#!/usr/bin/env bats
# The kit's own test: every broken variant of lessons 04 to 07 is caught, every run, by its
# lesson's check and by the valgrind tools that can see it (tests/broken.bash says how).

load helpers
load broken

@test "broken/04-a is caught by lesson 04's check, and by memcheck" {
	check_variant 04-a
}

@test "broken/05-a is caught by lesson 05's check (no valgrind tool can see it)" {
	check_variant 05-a
}

@test "broken/06-a is caught by lesson 06's check, and by memcheck and DRD" {
	check_variant 06-a
}

@test "broken/07-a is caught by lesson 07's check, and by memcheck" {
	check_variant 07-a
}
