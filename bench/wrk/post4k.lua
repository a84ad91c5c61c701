-- POST / with a 4 KiB body (Content-Length: 4096), kept alive.
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
