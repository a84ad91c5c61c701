-- POST / with "Transfer-Encoding: chunked": 4 chunks of 1 KiB (4 KiB of data) and the last chunk, kept alive.
local req = nil

local function chunked()
  local head = wrk.format("POST", "/", {
    ["Content-Type"] = "application/octet-stream",
    ["Transfer-Encoding"] = "chunked",
  })
  local chunk = "400\r\n" .. string.rep("x", 1024) .. "\r\n"
  return head .. string.rep(chunk, 4) .. "0\r\n\r\n"
end

-- A global request function (wrk's dynamic mode): wrk.init overwrites a
-- wrk.request replaced in init with the default GET, so it would never be sent.
init = function(args)
  req = chunked()
end

request = function()
  if req == nil then req = chunked() end
  return req
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"mean_us\":%.1f,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
