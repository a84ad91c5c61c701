-- POST / with a 256 KiB body (Content-Length: 262144), kept alive. Not part of
-- the default `npm run bench`: the large-upload figures of docs/options.md
-- (maxBodyBytes) were measured with it, one server at a time:
--   taskset -c 1 wrk -t1 -c50 -d4s -s bench/wrk/post256k.lua http://127.0.0.1:<port>/
wrk.method = "POST"
wrk.body = string.rep("x", 262144)
wrk.headers["Content-Type"] = "application/octet-stream"
