-- 16 GET / pipelined per write on each connection; wrk counts every response, but
-- records one latency sample per batch of 16 (from the write to the 16th response).
local depth = 16
local req = nil

local function batch()
  local parts = {}
  for i = 1, depth do parts[i] = wrk.format("GET", "/") end
  return table.concat(parts)
end

-- A global request function (wrk's dynamic mode), not a replaced wrk.request:
-- wrk.init overwrites wrk.request with the default single GET right after it
-- calls init, so a batch set there is never sent. wrk also counts the
-- requests request() returns (16) and writes the next batch only when all 16
-- responses are in: a true 16-deep pipeline.
init = function(args)
  req = batch()
end

request = function()
  if req == nil then req = batch() end
  return req
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"mean_us\":%.1f,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
