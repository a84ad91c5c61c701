/**
 * The request/response helpers: what a callback gets from parseRequest and
 * what buildResponse writes, byte for byte.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  buildResponse,
  type CallbackContext,
  CallbackHttpError,
  decodeChunked,
  jsonResponse,
  parseRequest,
  textResponse,
} from "../src/index.js";

/** A callback's context as the helpers read it: a kept-alive HTTP/1.1 GET's, with `fields` changed. */
function contextOf(fields: Partial<CallbackContext>): CallbackContext {
  return {
    listenerId: 1,
    remoteAddress: "",
    remotePort: 0,
    signal: new AbortController().signal,
    draining: false,
    willClose: false,
    keepAliveTimeoutMs: 5000,
    httpVersion: "1.1",
    head: false,
    ...fields,
  };
}

describe("parseRequest", () => {
  test("splits method, target, path, query, version, headers and a Content-Length body", () => {
    const r = parseRequest(
      Buffer.from("POST /items?id=3 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 5\r\n\r\nhello"),
    );
    assert.equal(r.method, "POST");
    assert.equal(r.target, "/items?id=3");
    assert.equal(r.path, "/items");
    assert.equal(r.query, "id=3");
    assert.equal(r.version, "HTTP/1.1");
    assert.deepEqual(r.headers, { host: "h", "x-a": "1, 2", "content-length": "5" });
    assert.deepEqual(r.rawHeaders, [
      ["Host", "h"],
      ["X-A", "1"],
      ["x-a", "2"],
      ["Content-Length", "5"],
    ]);
    assert.equal(r.body.toString(), "hello");
  });

  test("decodes a chunked body with extensions and trailers", () => {
    const r = parseRequest(
      "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n",
    );
    assert.equal(r.body.toString(), "abcde");
    assert.equal(decodeChunked(Buffer.from("1\r\nz\r\n0\r\n\r\n")).toString(), "z");
  });

  test("a repeated Content-Length keeps the body; OWS is spaces and tabs only", () => {
    const r = parseRequest(
      Buffer.from(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\nX-A: caf\xa0\t\r\n\r\nabc",
        "latin1",
      ),
    );
    assert.equal(r.body.toString(), "abc");
    assert.equal(r.headers["x-a"], "caf\xa0");
  });

  test("decodeChunked refuses sizes that are not hex digits", () => {
    for (const bad of ["0x2\r\nhi\r\n0\r\n\r\n", "2 junk\r\nhi\r\n0\r\n\r\n", "+2\r\nhi\r\n0\r\n\r\n"]) {
      assert.throws(() => decodeChunked(Buffer.from(bad)), { code: "ERR_ARG_TYPE" }, JSON.stringify(bad));
    }
    assert.equal(decodeChunked(Buffer.from("2 ;x=y\r\nhi\r\n0\r\n\r\n")).toString(), "hi");
  });

  test("decodeChunked takes any Uint8Array, and names what it got otherwise", () => {
    const plain = new TextEncoder().encode("3\r\nabc\r\n0\r\n\r\n");
    assert.equal(plain instanceof Buffer, false);
    assert.equal(decodeChunked(plain).toString(), "abc");
    for (const [bad, shown] of [
      [123, "123"],
      [null, "null"],
      ["3\r\nabc\r\n0\r\n\r\n", '"3'],
    ] as const) {
      assert.throws(() => decodeChunked(bad as never), {
        name: "CallbackHttpError",
        code: "ERR_ARG_TYPE",
        message: new RegExp(
          `^decodeChunked: expected a Uint8Array, got ${shown.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`,
        ),
      });
    }
  });

  test("a chunk size may have any number of leading zeros, as the listener lets through", () => {
    const body = "0000000000002\r\nhi\r\n0000000000000\r\n\r\n";
    assert.equal(decodeChunked(Buffer.from(body)).toString(), "hi");
    const r = parseRequest(`PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    assert.equal(r.body.toString(), "hi");
  });

  test("decodeChunked refuses what the listener refuses, with its reason", () => {
    const cases: Array<[string, RegExp]> = [
      ["2 \r\nhi\r\n0\r\n\r\n", /invalid chunk size/], // whitespace with no extension after it
      ["2;a\rb\r\nhi\r\n0\r\n\r\n", /invalid chunk size/], // a bare CR in an extension
      ["2\r\nhi\r\n0\r\nno colon here\r\n\r\n", /invalid character in header name/],
      ["2\r\nhi\r\n0\r\nContent-Length: 5\r\n\r\n", /framing field in the trailer section/],
    ];
    for (const [bad, reason] of cases) {
      assert.throws(
        () => decodeChunked(Buffer.from(bad)),
        (e: Error & { code?: string }) =>
          e.code === "ERR_ARG_TYPE" &&
          e.message.startsWith("decodeChunked: invalid chunked body: ") &&
          reason.test(e.message),
        JSON.stringify(bad),
      );
    }
  });

  test("the path of an absolute-form target is the URI's path", () => {
    const r = parseRequest("GET http://a.example:8080/items?id=3 HTTP/1.1\r\nHost: a.example:8080\r\n\r\n");
    assert.deepEqual([r.target, r.path, r.query], ["http://a.example:8080/items?id=3", "/items", "id=3"]);
    assert.equal(parseRequest("GET HTTP://a.example?x HTTP/1.1\r\nHost: a\r\n\r\n").path, "/");
    assert.equal(parseRequest("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").path, "*");
  });

  test("host is the target's authority when the target has one, else the Host field", () => {
    const host = (raw: string) => parseRequest(raw).host;
    // RFC 9112 3.2.2: an absolute-form target overrides Host, which the listener lets differ.
    assert.equal(
      host("GET http://good.example:8080/admin HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
      "good.example:8080",
    );
    assert.equal(host("GET HTTP://[::1]?x HTTP/1.1\r\nHost: a\r\n\r\n"), "[::1]");
    assert.equal(host("CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n"), "a.example:443");
    assert.equal(host("GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n"), "a.example");
    assert.equal(host("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n"), "a.example");
    assert.equal(host("GET /x HTTP/1.0\r\n\r\n"), "");
  });

  test("header values lose spaces and tabs at both ends only, however long the run", () => {
    const spaces = " ".repeat(20_000);
    const r = parseRequest(`GET / HTTP/1.1\r\nHost: h\r\nX-A: \t${spaces}a${spaces}b${spaces}\t \r\n\r\n`);
    assert.equal(r.headers["x-a"], `a${spaces}b`);
  });

  test("refuses bytes without a request head", () => {
    assert.throws(() => parseRequest("GET / HTTP/1.1\r\n"), CallbackHttpError);
  });

  test("header names that Object.prototype has are fields like any other", () => {
    const r = parseRequest("GET / HTTP/1.1\r\nHost: h\r\nConstructor: y\r\n__proto__: z\r\nToString: t\r\n\r\n");
    assert.equal(r.headers.constructor, "y");
    assert.equal(r.headers.tostring, "t");
    assert.equal(Object.hasOwn(r.headers, "__proto__"), true);
    assert.equal(Object.getOwnPropertyDescriptor(r.headers, "__proto__")?.value, "z");
    assert.deepEqual(Object.keys(r.headers), ["host", "constructor", "__proto__", "tostring"]);
    assert.equal(Object.getPrototypeOf(r.headers), Object.prototype, "still a plain object");
  });

  test("a chunked body must be whole: CRLF after each chunk's data, and the empty line after the trailers", () => {
    for (const bad of ["3\r\nabcXX0\r\n\r\n", "3\r\nabc", "0\r\n", "0\r\nT: v\r\n", "3\r\nab"]) {
      assert.throws(() => decodeChunked(Buffer.from(bad)), { code: "ERR_ARG_TYPE" }, JSON.stringify(bad));
    }
    assert.equal(decodeChunked(Buffer.from("3\r\nabc\r\n0\r\nT: v\r\nU: w\r\n\r\n")).toString(), "abc");
    // An error met inside parseRequest is named after it, the function that was called.
    assert.throws(() => parseRequest("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab"), {
      code: "ERR_ARG_TYPE",
      message: "parseRequest: truncated chunked body",
    });
  });
});

describe("buildResponse", () => {
  test("writes the status line, headers and a Content-Length", () => {
    assert.equal(
      buildResponse({ status: 201, headers: { "X-Y": 1 }, body: "ok" }).toString(),
      "HTTP/1.1 201 Created\r\nX-Y: 1\r\nContent-Length: 2\r\n\r\nok",
    );
  });

  test("adds Connection: close while the listener drains", () => {
    const context = contextOf({ draining: true, willClose: true });
    assert.equal(
      textResponse(200, "x", context).toString(),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
    );
  });

  test("advertises the keep-alive time-out, a second short, when the connection stays open", () => {
    const context = (keepAliveTimeoutMs: number, willClose = false, httpVersion: "1.0" | "1.1" = "1.1") =>
      contextOf({ keepAliveTimeoutMs, willClose, httpVersion });
    const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\n";
    // A second short and rounded down: a client that trusts it to the second stops before the listener closes.
    assert.equal(textResponse(200, "x", context(5000)).toString(), `${HEAD}Keep-Alive: timeout=4\r\n\r\nx`);
    assert.equal(textResponse(200, "x", context(6999)).toString(), `${HEAD}Keep-Alive: timeout=5\r\n\r\nx`);
    assert.equal(textResponse(200, "x", context(1999)).toString(), `${HEAD}Keep-Alive: timeout=0\r\n\r\nx`);
    assert.equal(textResponse(200, "x", context(500)).toString(), `${HEAD}Keep-Alive: timeout=0\r\n\r\nx`);
    // Not on an interim response.
    assert.equal(
      buildResponse({ status: 103, headers: { Link: "</a.css>" }, context: context(5000) }).toString(),
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
    );
    assert.equal(textResponse(200, "x", context(5000, true)).toString(), `${HEAD}Connection: close\r\n\r\nx`);
    assert.equal(textResponse(200, "x").toString(), `${HEAD}\r\nx`);
    // An HTTP/1.0 request that asked to keep the connection: only a response that says so too keeps it.
    assert.equal(
      textResponse(200, "x", context(5000, false, "1.0")).toString(),
      `${HEAD}Connection: keep-alive\r\nKeep-Alive: timeout=4\r\n\r\nx`,
    );
    assert.equal(textResponse(200, "x", context(5000, true, "1.0")).toString(), `${HEAD}Connection: close\r\n\r\nx`);
    // A Keep-Alive or Connection header of the caller's own is left as the only one.
    assert.equal(
      buildResponse({ headers: { "keep-alive": "timeout=9" }, context: context(5000) }).toString(),
      "HTTP/1.1 200 OK\r\nkeep-alive: timeout=9\r\nContent-Length: 0\r\n\r\n",
    );
    assert.equal(
      buildResponse({ headers: { Connection: "keep-alive" }, context: context(5000) }).toString(),
      "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
    );
  });

  test("a HEAD answer keeps the Content-Length and leaves the body out", () => {
    assert.equal(
      buildResponse({ body: "hello", head: true }).toString(),
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    );
  });

  test("given the context of a HEAD request, the helpers leave the body out", () => {
    const context = contextOf({ keepAliveTimeoutMs: 0, head: true });
    assert.equal(
      textResponse(200, "hello", context).toString(),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n",
    );
    assert.equal(
      jsonResponse(200, { a: 1 }, context).toString(),
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n",
    );
    assert.ok(buildResponse({ body: "x", context, head: false }).toString().endsWith("\r\n\r\nx"), "head: false wins");
  });

  test("a status outside 100..599 is refused: clients and the listener take it for no response", () => {
    for (const status of [600, 999, 99]) {
      assert.throws(() => buildResponse({ status }), {
        code: "ERR_ARG_TYPE",
        message: `buildResponse: status ${status} is not a code in 100..599`,
      });
    }
    assert.ok(buildResponse({ status: 599 }).toString().startsWith("HTTP/1.1 599 "));
  });

  test("a head too large for the listener to keep the connection says Connection: close", () => {
    const context = contextOf({});
    const big = buildResponse({ headers: { "X-Big": "a".repeat(16_400) }, context }).toString();
    assert.ok(big.endsWith("\r\nConnection: close\r\n\r\n"), big.slice(-60));
    const small = buildResponse({ headers: { "X-Big": "a".repeat(16_000) }, context }).toString();
    assert.ok(small.endsWith("\r\nKeep-Alive: timeout=4\r\n\r\n"), small.slice(-60));
  });

  test("headers must be [name, value] pairs of a token and a string or finite number; a detached body is empty", () => {
    const bad: unknown[] = [
      [[Symbol("x"), "v"]],
      [null],
      [["X-A"]],
      { "X-A": undefined },
      { "X-A": {} },
      { "X-A": Number.NaN },
    ];
    for (const [i, headers] of bad.entries()) {
      assert.throws(() => buildResponse({ headers: headers as never }), { code: "ERR_ARG_TYPE" }, `case ${i}`);
    }
    assert.equal(
      buildResponse({ headers: { "X-N": 3 } }).toString(),
      "HTTP/1.1 200 OK\r\nX-N: 3\r\nContent-Length: 0\r\n\r\n",
    );
    const detached = new TextEncoder().encode("gone");
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    assert.equal(buildResponse({ body: detached }).toString(), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert.throws(() => textResponse(200, undefined as never), {
      code: "ERR_ARG_TYPE",
      message: "textResponse: text must be a string, got undefined",
    });
  });

  test("204 and 304 get no Content-Length, and refuse a body", () => {
    assert.equal(buildResponse({ status: 204 }).toString(), "HTTP/1.1 204 No Content\r\n\r\n");
    assert.throws(() => buildResponse({ status: 304, body: "x" }), { code: "ERR_ARG_TYPE" });
  });

  test("refuses a header value with a line break (response splitting)", () => {
    assert.throws(() => buildResponse({ headers: { "X-A": "1\r\nSet-Cookie: x" } }), { code: "ERR_ARG_TYPE" });
  });

  test("refuses a reason phrase with a line break, which would start a header of its own", () => {
    assert.throws(() => buildResponse({ reason: "OK\r\nSet-Cookie: x" }), {
      code: "ERR_ARG_TYPE",
      message: 'buildResponse: reason "OK\\r\\nSet-Cookie: x" is not a reason phrase',
    });
    assert.equal(
      buildResponse({ status: 299, reason: "Fine\tcaf\u00e9" }).toString("latin1"),
      "HTTP/1.1 299 Fine\tcaf\u00e9\r\nContent-Length: 0\r\n\r\n",
    );
  });

  test("refuses what the head cannot carry byte for byte: a name that is no token, a control byte, U+0100 and up", () => {
    const bad: Array<Record<string, string>> = [
      { "A B": "v" },
      { "": "v" },
      { "X-A": "a\u0000b" },
      { "X-A": "h\u00e9llo\u20ac" },
    ];
    for (const headers of bad) {
      assert.throws(() => buildResponse({ headers }), { code: "ERR_ARG_TYPE" }, JSON.stringify(headers));
    }
    // obs-text (U+0080..U+00FF) goes out as its one byte.
    const built = buildResponse({ headers: { "X-A": "caf\u00e9" } });
    assert.ok(built.includes(Buffer.from("\r\nX-A: caf\xe9\r\n", "latin1")), JSON.stringify(built.toString("latin1")));
  });

  test("an init that is not an object is ERR_ARG_TYPE, not a TypeError", () => {
    assert.throws(() => buildResponse(null as never), {
      code: "ERR_ARG_TYPE",
      message: "buildResponse: init must be an object, got null",
    });
  });
});

describe("textResponse and jsonResponse", () => {
  test("their errors are named after them", () => {
    assert.throws(() => textResponse(42, "x"), { code: "ERR_ARG_TYPE", message: /^textResponse: status 42 / });
    assert.throws(() => jsonResponse(204, { a: 1 }), {
      code: "ERR_ARG_TYPE",
      message: /^jsonResponse: a 204 response /,
    });
  });

  test("a value without JSON text is ERR_ARG_TYPE: a BigInt, a cycle, undefined", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [1n, cycle, undefined, () => 1]) {
      assert.throws(() => jsonResponse(200, value), { code: "ERR_ARG_TYPE", message: /^jsonResponse: value / });
    }
    assert.equal(jsonResponse(200, null).toString().endsWith("\r\n\r\nnull"), true);
  });
});
