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
