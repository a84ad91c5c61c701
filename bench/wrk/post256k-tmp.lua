-- POST / with a 4 KiB body (Content-Length: 262144), kept alive.
wrk.method = "POST"
wrk.body = string.rep("x", 262144)
wrk.headers["Content-Type"] = "application/octet-stream"
