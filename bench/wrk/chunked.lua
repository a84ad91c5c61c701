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
