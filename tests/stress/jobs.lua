-- jobs.lua - wrk's script for make stress (tests/tools/stress): every request POSTs the same body
-- to /jobs, every answer is counted by its status, and the run ends with a drain, so that every
-- job wrk sent has its answer before wrk stops.
--
-- Why the drain: when wrk's own duration ends, each of its connections may have a request on
-- the way, and wrk drops them unanswered. The server still reads each of those, runs the job and
-- logs it, so the job log would hold up to one line per connection more than wrk saw 202s, and
-- "one log line per 202" could not be checked exactly. So tests/tools/stress, once the load has
-- run for its time, creates the file STRESS_DRAIN. From then on each connection sends
-- "GET /jobs" instead, which every server answers 405 without starting a job; once a thread has
-- the answer to every job it sent, it writes one line to the FIFO STRESS_DRAINED, and when both
-- threads have, the script stops wrk (SIGINT, which wrk takes as the end of the run).
--
-- wrk runs each thread with a Lua state of its own: the counts below are per thread, and done(),
-- which runs in wrk's main state, adds them up through thread:get().
--
-- Environment: STRESS_BODY (the body of every job), STRESS_DRAIN, STRESS_DRAINED (above).

local body = os.getenv("STRESS_BODY")
local drain_path = os.getenv("STRESS_DRAIN")
local drained_path = os.getenv("STRESS_DRAINED")
if not (body and drain_path and drained_path) then
	error("jobs.lua: set STRESS_BODY, STRESS_DRAIN and STRESS_DRAINED (tests/tools/stress does)")
end

local threads = {}

-- Runs in wrk's main state, once per thread before its init(): keeps the thread for done(), and
-- numbers it.
function setup(thread)
	table.insert(threads, thread)
	thread:set("number", #threads)
end

-- Per thread, and read by done() through thread:get(), so they are globals.
statuses = {}  -- the answers to jobs, by status
sent = 0       -- jobs sent
answered = 0   -- jobs answered
probes = 0     -- answers to the drain's GET /jobs
drained = 0    -- 1 once every job this thread sent has its answer, after the drain began

local job, probe
local draining = false
-- Right after the first thread's init(), wrk calls its request() once more, to count the
-- requests in the string it returns (script_verify_request() in wrk's src/script.c). That
-- request is never sent, so it is not counted.
local verifying = false

function init(args)
	job = wrk.format("POST", "/jobs", {["Content-Type"] = "application/octet-stream"}, body)
	probe = wrk.format("GET", "/jobs", {}, nil)
	verifying = number == 1
end

-- Says once, on the FIFO, that this thread's jobs all have their answers.
local function report_if_drained()
	if draining and drained == 0 and answered >= sent then
		drained = 1
		local fifo = assert(io.open(drained_path, "a"))
		fifo:write("drained\n")
		fifo:close()
	end
end

-- wrk calls this for each request it sends. Looking for the drain file costs one failed open()
-- a request, which is small next to the request itself.
function request()
	if verifying then
		verifying = false
		return job
	end
	if not draining then
		local flag = io.open(drain_path, "r")
		if flag then
			flag:close()
			draining = true
			report_if_drained()
		end
	end
	if draining then
		return probe
	end
	sent = sent + 1
	return job
end

-- wrk calls this for each complete answer. No POST to /jobs is answered 405 (the kit's servers
-- answer it for any other method), so a 405 is the answer to a probe.
function response(status, headers, answer)
	if status == 405 then
		probes = probes + 1
		return
	end
	answered = answered + 1
	statuses[status] = (statuses[status] or 0) + 1
	report_if_drained()
end

-- One line that tests/tools/stress reads: the counts of every thread added up, and wrk's socket
-- errors.
function done(summary, latency, requests)
	local total = {sent = 0, answered = 0, probes = 0, drained = 0}
	local by_status = {}
	for _, thread in ipairs(threads) do
		for name in pairs(total) do
			total[name] = total[name] + thread:get(name)
		end
		for status, count in pairs(thread:get("statuses")) do
			by_status[status] = (by_status[status] or 0) + count
		end
	end
	local other = {}
	for status, count in pairs(by_status) do
		if status ~= 202 and status ~= 503 then
			table.insert(other, string.format("%dx%d", status, count))
		end
	end
	table.sort(other)
	local errors = summary.errors
	io.write(string.format(
		"stress-result accepted=%d refused=%d other=%s sent=%d answered=%d probes=%d " ..
		"drained=%d threads=%d connect=%d read=%d write=%d timeout=%d\n",
		by_status[202] or 0, by_status[503] or 0, #other > 0 and table.concat(other, ",") or "none",
		total.sent, total.answered, total.probes, total.drained, #threads,
		errors.connect, errors.read, errors.write, errors.timeout))
end
