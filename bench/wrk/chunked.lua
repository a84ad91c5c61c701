-- POST / with "Transfer-Encoding: chunked": 4 chunks of 1 KiB (4 KiB of data) and the last chunk, kept alive.
init = function(args)
  local head = wrk.format("POST", "/", {
    ["Content-Type"] = "application/octet-stream",
    ["Transfer-Encoding"] = "chunked",
  })
  local chunk = "400\r\n" .. string.rep("x", 1024) .. "\r\n"
  local req = head .. string.rep(chunk, 4) .. "0\r\n\r\n"
  -- wrk.format adds no Content-Length without a body; the request stays static (see pipeline.lua).
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
