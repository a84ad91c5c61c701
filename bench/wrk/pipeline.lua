-- 16 GET / pipelined per write on each connection; wrk counts every response, but
-- records one latency sample per batch of 16 (from the write to the 16th response).
local depth = 16

init = function(args)
  local batch = {}
  for i = 1, depth do batch[i] = wrk.format("GET", "/") end
  local req = table.concat(batch)
  -- Replacing wrk.request (not defining a global request function) keeps wrk's
  -- static mode: the batch is built once, not per write.
  wrk.request = function() return req end
end

-- Printed once at the end, parsed by bench/run.mjs (times in microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"mean_us\":%.1f,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
