-- GET / with "Connection: close": one request per TCP connection, wrk reconnects after each response.
wrk.headers["Connection"] = "close"
