#!/usr/bin/env bats
# The kit's own test: every broken variant of lessons 04 to 09 is caught, every run, by its
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
