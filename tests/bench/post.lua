-- post.lua - wrk's request for make bench (tests/tools/bench): POST /jobs with a 100-byte body.
--
--   wrk -t1 -c16 -d3s -s tests/bench/post.lua http://127.0.0.1:PORT/jobs -- close
--   wrk -t1 -c16 -d3s -s tests/bench/post.lua http://127.0.0.1:PORT/jobs -- keep-alive
--
-- "close" adds "Connection: close", so that every request pays for a connection of its own, as
-- with the kit's servers up to lesson 08; "keep-alive" leaves it out, so that a server that keeps
-- the connection open (lesson 09, nginx by default) serves many requests on one.
-- At the end it prints one line that the bench reads:
--   bench: requests N non2xx M errors CONNECT READ WRITE TIMEOUT duration_us D

wrk.method = "POST"
wrk.body = string.rep("x", 100)
wrk.headers["Content-Type"] = "application/octet-stream"

-- Called once per thread, before wrk builds the request from the fields above.
function init(args)
	local mode = args[1] or "close"
	if mode == "close" then
		wrk.headers["Connection"] = "close"
	elseif mode ~= "keep-alive" then
		error("post.lua: the mode is close or keep-alive, not " .. mode)
	end
end

-- A 503 is a refusal, not an acceptance: wrk counts it among the "non-2xx or 3xx" answers, and
-- the bench subtracts those from the requests.
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("bench: requests %d non2xx %d errors %d %d %d %d duration_us %d\n",
		summary.requests, e.status, e.connect, e.read, e.write, e.timeout, summary.duration))
end
