#!/usr/bin/env bats
# The core's request reader is strict, as RFC 9112 asks of a server, and refuses at once:
# docs/contract.md, "Requests". Lesson 02's server reads each request on its accept loop, lesson
# 08's on a connection thread; both use the same reader (lessons/common/request.c).

load helpers
load contract

@test "02: a malformed request gets its status at once, and the unusual valid ones are jobs" {
	use_server 02-answer-first
	contract_strict_parsing
}

@test "08: a malformed request gets its status at once, and the unusual valid ones are jobs" {
	use_server 08-front-door
	contract_strict_parsing --journal "$BATS_TEST_TMPDIR/journal"
}
