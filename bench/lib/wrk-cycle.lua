-- wrk script for the benches: replays pre-generated signed POSTs and counts the answers by status, per thread.
-- Args after "--": <prefix> <threads> <cycle|once>. Thread k reads <prefix>.k: raw HTTP requests, each ended by a NUL
-- byte, written by bench/lib/wrk.ts. wrk starts each thread right after its init, while the next threads still
-- init, so the first threads hold their first request until the last init has written <prefix>.ready.
-- cycle: request() walks them round and round. once: each is sent once, then the connection idles; the thread
-- prints "mapper-bench finished" when all its answers are in (the bench then stops wrk with SIGINT).

local ffi = require("ffi")
ffi.cdef("int usleep(unsigned int usec);")
local threads, count = {}, 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  prefix, once = args[1], args[3] == "once"
  reqs, statuses, sent, answered = {}, {}, 0, 0
  local f = assert(io.open(args[1] .. "." .. id, "rb"))
  local data = f:read("*a")
  f:close()
  local from = 1
  while true do
    local nul = data:find("\0", from, true)
    if not nul then break end
    reqs[#reqs + 1] = data:sub(from, nul - 1)
    from = nul + 1
  end
  prepared = #reqs
  ready = id == tonumber(args[2])
  if ready then assert(io.open(prefix .. ".ready", "w")):close() end
  -- wrk calls request() once on thread 1 before the run, to check it: that call must not use up a delivery.
  verifying = id == 1
  if once and prepared == 0 then io.write("mapper-bench finished ", id, "\n"); io.flush() end
end

function request()
  if verifying then verifying = false; return reqs[1] end
  while not ready do
    local flag = io.open(prefix .. ".ready")
    if flag then flag:close(); ready = true else ffi.C.usleep(1000) end
  end
  if once and sent >= prepared then return "" end -- nothing left: an empty write leaves the connection idle
  sent = sent + 1
  return reqs[(sent - 1) % prepared + 1]
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if once and answered == prepared then
    io.write("mapper-bench finished ", id, "\n"); io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency)
  local totals, allSent, allPrepared = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do totals[status] = (totals[status] or 0) + n end
    allSent = allSent + (thread:get("sent") or 0)
    allPrepared = allPrepared + (thread:get("prepared") or 0)
  end
  for status, n in pairs(totals) do print(("mapper-bench status %d %d"):format(status, n)) end
  print(("mapper-bench latency_us %.0f %.0f %.0f %.0f %.1f"):format(latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
  print(("mapper-bench sent %d prepared %d"):format(allSent, allPrepared))
end
