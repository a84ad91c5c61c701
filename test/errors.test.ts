/**
 * Every error code of contract section 6, raised through the public API: its
 * `code`, its class, a message that names the function and the wrong value,
 * sync functions throwing and async ones rejecting; the order in which
 * arguments are checked; and the other side of the rule: a closed listener
 * keeps its record, so queries on it answer and never throw.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  asyncmeta,
  CallbackHttpError,
  callback,
  callbackhttp,
  ERROR_CODES,
  type ErrorCode,
  HttpListener,
} from "../src/index.js";
import { resolveLimits } from "../src/options.js";

type FacadeFunction = keyof typeof callbackhttp;

/** The functions that wait: their errors are rejections, never synchronous throws. */
const ASYNC: ReadonlySet<FacadeFunction> = new Set(["Open", "Close", "WaitDrained", "WaitRouteDrained"]);

/** The functions whose one argument is a listener id (RouteKnown aside: it answers 0 for ids it does not know). */
const ID_QUERIES: readonly FacadeFunction[] = [
  "Close",
  "Port",
  "BindMode",
  "BindModeText",
  "State",
  "StateText",
  "Active",
  "Pending",
  "Queued",
  "Running",
  "Drained",
  "Info",
  "RouteState",
  "RouteStateText",
  "RouteCallback",
  "RouteTimeout",
  "RouteInfo",
  "RoutePending",
  "RouteQueued",
  "RouteRunning",
  "RouteDrained",
  "RouteCloseAccepted",
  "RouteClosedQueued",
  "RouteCloseInfo",
  "RouteClose",
];

const LIMIT = { timeout: 5000 };

/** Codes some test below saw raised; the last test checks that none of ERROR_CODES was missed. */
const seen = new Set<string>();

/** Call a facade function with any arguments, as plain JavaScript could. */
function call(fn: FacadeFunction, ...args: unknown[]): unknown {
  return Reflect.apply(callbackhttp[fn] as (...a: unknown[]) => unknown, callbackhttp, args);
}

/**
 * The CallbackHttpError that `callbackhttp[fn](...args)` raises: thrown by a
 * synchronous function, the rejection of an async one (which must not throw).
 */
async function raised(fn: FacadeFunction, args: unknown[]): Promise<CallbackHttpError> {
  let result: unknown;
  try {
    result = call(fn, ...args);
  } catch (err) {
    assert.ok(!ASYNC.has(fn), `${fn} threw synchronously; it should return a rejected promise`);
    assert.ok(err instanceof CallbackHttpError, `${fn} threw ${String(err)}, not a CallbackHttpError`);
    return err;
  }
  assert.ok(ASYNC.has(fn), `${fn}(${args.map(String).join(", ")}) returned ${String(result)} instead of throwing`);
  assert.ok(result instanceof Promise, `${fn} returned no promise`);
  try {
    const value = await result;
    assert.fail(`${fn}(${args.map(String).join(", ")}) resolved to ${String(value)} instead of rejecting`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof CallbackHttpError, `${fn} rejected with ${String(err)}, not a CallbackHttpError`);
    return err;
  }
}

/** `callbackhttp[fn](...args)` raises `code`, and its message starts with the function and names each of `names`. */
async function expectError(
  fn: FacadeFunction,
  args: unknown[],
  code: ErrorCode,
  ...names: string[]
): Promise<CallbackHttpError> {
  const err = await raised(fn, args);
  seen.add(err.code);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "CallbackHttpError");
  assert.equal(err.code, code, `${fn}: ${err.message}`);
  assert.ok(err.message.startsWith(`callbackhttp.${fn}: `), `message ${JSON.stringify(err.message)} names no function`);
  for (const name of names) {
    assert.ok(err.message.includes(name), `message ${JSON.stringify(err.message)} does not name ${name}`);
  }
  return err;
}

/** A listener for the tests that need a real id; closed by the caller. */
function openOne(timeoutMs = -1): Promise<number> {
  return callbackhttp.Open("OnRequest", timeoutMs, 0);
}

/** A plain TCP server holding a port on 127.0.0.1. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => resolve());
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { server, port: address.port };
}

before(() => {
  callback("OnRequest", (_r) => 1);
});

describe("ERR_ARG_COUNT", () => {
  test("too many arguments", LIMIT, async () => {
    const lid = await openOne();
    try {
      await expectError("Capabilities", [1], "ERR_ARG_COUNT", "expected 0 arguments, got 1");
      await expectError("BindLocalOnly", [0], "ERR_ARG_COUNT", "got 1");
      await expectError("BindAny", [1, 2], "ERR_ARG_COUNT", "got 2");
      await expectError("OpenCount", [1], "ERR_ARG_COUNT", "got 1");
      await expectError("Port", [lid, 1], "ERR_ARG_COUNT", "expected 1 argument, got 2");
      await expectError("RouteMeta", [lid, 1, 2], "ERR_ARG_COUNT", "expected 2 arguments, got 3");
      await expectError("Close", [lid, 1], "ERR_ARG_COUNT", "got 2");
      await expectError("WaitDrained", [lid, 50, 1], "ERR_ARG_COUNT", "got 3");
      await expectError("WaitRouteDrained", [lid, 50, 1], "ERR_ARG_COUNT", "got 3");
      await expectError("Open", ["OnRequest", -1, 0, 0, {}, 1], "ERR_ARG_COUNT", "expected 2 to 5 arguments, got 6");
      assert.equal(callbackhttp.State(lid), 1, "a refused Close closed nothing");
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("too few arguments", LIMIT, async () => {
    const lid = await openOne();
    try {
      await expectError("Open", [], "ERR_ARG_COUNT", "got 0");
      await expectError("Open", ["OnRequest"], "ERR_ARG_COUNT", "expected 2 to 5 arguments, got 1");
      await expectError("Port", [], "ERR_ARG_COUNT", "expected 1 argument, got 0");
      await expectError("Close", [], "ERR_ARG_COUNT", "got 0");
      await expectError("RouteMeta", [lid], "ERR_ARG_COUNT", "expected 2 arguments, got 1");
      await expectError("WaitDrained", [lid], "ERR_ARG_COUNT", "got 1");
      await expectError("WaitRouteDrained", [lid], "ERR_ARG_COUNT", "got 1");
      await expectError("RouteKnown", [], "ERR_ARG_COUNT", "got 0");
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("an optional argument passed as undefined counts as absent", LIMIT, async () => {
    const a = await callbackhttp.Open("OnRequest", -1, undefined);
    const b = await callbackhttp.Open("OnRequest", -1, 0, undefined, undefined);
    try {
      assert.ok(callbackhttp.Port(a) > 0, "port 0 (the OS picks) is the default");
      assert.equal(callbackhttp.BindMode(a), 0);
      assert.equal(callbackhttp.BindMode(b), 0, "BindLocalOnly is the default");
    } finally {
      await callbackhttp.Close(a);
      await callbackhttp.Close(b);
    }
  });

  test("an optional argument passed as undefined before a given one counts as absent too", LIMIT, async () => {
    // Open(name, timeoutMs, undefined, BindLocalOnly()): the port is absent, so 0 (the OS picks).
    const lid = await callbackhttp.Open("OnRequest", -1, undefined, callbackhttp.BindLocalOnly());
    try {
      assert.ok(callbackhttp.Port(lid) > 0);
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("the count is checked before the types", LIMIT, async () => {
    await expectError("Port", ["x", 1], "ERR_ARG_COUNT");
    await expectError("Open", [123], "ERR_ARG_COUNT");
    await expectError("RouteMeta", ["x"], "ERR_ARG_COUNT");
  });

  test("callback() counts its arguments too", () => {
    const loose = callback as (...args: unknown[]) => unknown;
    assert.throws(() => loose("OnRequest"), {
      name: "CallbackHttpError",
      code: "ERR_ARG_COUNT",
      message: /^callback: /,
    });
    assert.throws(() => loose("OnRequest", () => 1, 3), { code: "ERR_ARG_COUNT", message: /got 3/ });
  });
});

describe("ERR_ARG_TYPE", () => {
  test("a string where an integer is due names the argument and the value", LIMIT, async () => {
    const lid = await openOne();
    try {
      await expectError("Port", ["1"], "ERR_ARG_TYPE", "listenerId", '"1"');
      await expectError("Open", ["OnRequest", "-1"], "ERR_ARG_TYPE", "timeoutMs", '"-1"');
      await expectError("Open", ["OnRequest", -1, "0"], "ERR_ARG_TYPE", "port", '"0"');
      await expectError("Open", ["OnRequest", -1, 0, "0"], "ERR_ARG_TYPE", "bindMode", '"0"');
      await expectError("RouteMeta", [lid, "1"], "ERR_ARG_TYPE", "metaKey", '"1"');
      await expectError("WaitDrained", [lid, "50"], "ERR_ARG_TYPE", "timeoutMs", '"50"');
      await expectError("WaitRouteDrained", [String(lid), 50], "ERR_ARG_TYPE", "listenerId");
      await expectError("Close", [null], "ERR_ARG_TYPE", "listenerId", "null");
      await expectError("RouteKnown", ["1"], "ERR_ARG_TYPE", "listenerId", '"1"');
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("NaN, Infinity, a fraction, an unsafe integer and a BigInt are not integers", LIMIT, async () => {
    const lid = await openOne();
    try {
      for (const [value, shown] of [
        [Number.NaN, "NaN"],
        [Number.POSITIVE_INFINITY, "Infinity"],
        [Number.NEGATIVE_INFINITY, "-Infinity"],
        [1.5, "1.5"],
        [2 ** 53, String(2 ** 53)],
        [10n, "10n"],
      ] as const) {
        await expectError("Port", [value], "ERR_ARG_TYPE", "listenerId", shown);
        await expectError("RouteKnown", [value], "ERR_ARG_TYPE", "listenerId", shown);
        await expectError("Open", ["OnRequest", value], "ERR_ARG_TYPE", "timeoutMs", shown);
        await expectError("Open", ["OnRequest", -1, value], "ERR_ARG_TYPE", "port", shown);
        await expectError("Open", ["OnRequest", -1, 0, value], "ERR_ARG_TYPE", "bindMode", shown);
        await expectError("RouteMeta", [lid, value], "ERR_ARG_TYPE", "metaKey", shown);
        await expectError("WaitDrained", [lid, value], "ERR_ARG_TYPE", "timeoutMs", shown);
      }
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("a callback name that is neither a string nor a function", LIMIT, async () => {
    await expectError("Open", [123, -1], "ERR_ARG_TYPE", "callbackName", "123");
    await expectError("Open", [null, -1], "ERR_ARG_TYPE", "callbackName", "null");
  });

  test("options that are not an object", LIMIT, async () => {
    await expectError("Open", ["OnRequest", -1, 0, 0, "fast"], "ERR_ARG_TYPE", "options", '"fast"');
    await expectError("Open", ["OnRequest", -1, 0, 0, null], "ERR_ARG_TYPE", "options", "null");
    await expectError("Open", ["OnRequest", -1, 0, 0, [1]], "ERR_ARG_TYPE", "options", "array");
  });

  test("an unknown option is named", LIMIT, async () => {
    await expectError("Open", ["OnRequest", -1, 0, 0, { maxHeaderByte: 100 }], "ERR_ARG_TYPE", '"maxHeaderByte"');
  });

  test("an option of the wrong type or outside its range is named with its value", LIMIT, async () => {
    const count = callbackhttp.OpenCount();
    await expectError(
      "Open",
      ["OnRequest", -1, 0, 0, { maxHeaderBytes: "16k" }],
      "ERR_ARG_TYPE",
      "maxHeaderBytes",
      '"16k"',
    );
    await expectError("Open", ["OnRequest", -1, 0, 0, { maxBodyBytes: 1.5 }], "ERR_ARG_TYPE", "maxBodyBytes", "1.5");
    await expectError(
      "Open",
      ["OnRequest", -1, 0, 0, { keepAliveTimeoutMs: -1 }],
      "ERR_ARG_TYPE",
      "keepAliveTimeoutMs",
      "-1",
    );
    await expectError(
      "Open",
      ["OnRequest", -1, 0, 0, { concurrency: Number.NaN }],
      "ERR_ARG_TYPE",
      "concurrency",
      "NaN",
    );
    await expectError("Open", ["OnRequest", -1, 0, 0, { tls: true }], "ERR_ARG_TYPE", "tls", "true");
    await expectError("Open", ["OnRequest", -1, 0, 0, { module: 7 }], "ERR_ARG_TYPE", "module", "7");
    assert.equal(callbackhttp.OpenCount(), count, "a refused Open opens nothing");
  });

  test("headersTimeoutMs follows a lower requestTimeoutMs unless given; given, it must not exceed it", async () => {
    assert.equal(resolveLimits({ requestTimeoutMs: 1000 }, "t").headersTimeoutMs, 1000, "as in Node's http");
    assert.equal(resolveLimits({ requestTimeoutMs: 0 }, "t").headersTimeoutMs, 60000, "no request bound");
    assert.equal(resolveLimits({ requestTimeoutMs: 90000 }, "t").headersTimeoutMs, 60000);
    assert.equal(resolveLimits({ requestTimeoutMs: 1000, headersTimeoutMs: 0 }, "t").headersTimeoutMs, 0);
    await expectError(
      "Open",
      ["OnRequest", -1, 0, 0, { requestTimeoutMs: 1000, headersTimeoutMs: 2000 }],
      "ERR_ARG_TYPE",
      "headersTimeoutMs (2000) must not exceed requestTimeoutMs (1000)",
    );
    // Alone, it meets requestTimeoutMs's default, and the message says that is what it met.
    await expectError(
      "Open",
      ["OnRequest", -1, 0, 0, { headersTimeoutMs: 400000 }],
      "ERR_ARG_TYPE",
      "headersTimeoutMs (400000) must not exceed requestTimeoutMs (300000, its default)",
    );
    assert.equal(resolveLimits({ headersTimeoutMs: 400000, requestTimeoutMs: 0 }, "t").headersTimeoutMs, 400000);
  });

  test("callback() checks its name and function", () => {
    const loose = callback as (...args: unknown[]) => unknown;
    assert.throws(() => loose(5, () => 1), { code: "ERR_ARG_TYPE", message: /^callback: .*5/ });
    assert.throws(() => loose("On Request", () => 1), { code: "ERR_ARG_TYPE", message: /"On Request"/ });
    assert.throws(() => loose("a=b", () => 1), { code: "ERR_ARG_TYPE", message: /"a=b"/ });
    assert.throws(() => loose("", () => 1), { code: "ERR_ARG_TYPE", message: /""/ });
    assert.throws(() => loose("OnRequest", "return 1"), { code: "ERR_ARG_TYPE", message: /"return 1"/ });
  });

  test("asyncmeta's Supports* helpers raise the one error class on a non-integer mask", () => {
    assert.throws(
      () => (asyncmeta.SupportsKnown as (m: unknown) => number)("2048"),
      (err: unknown) => {
        assert.ok(err instanceof CallbackHttpError, `threw ${String(err)}, not a CallbackHttpError`);
        assert.equal(err.code, "ERR_ARG_TYPE");
        assert.match(err.message, /^asyncmeta\.SupportsKnown: .*"2048"/);
        return true;
      },
    );
  });
});

describe("ERR_PORT_RANGE", () => {
  test("port 70000 has the contract's exact message", LIMIT, async () => {
    const err = await expectError("Open", ["OnRequest", -1, 70000], "ERR_PORT_RANGE");
    assert.equal(err.message, "callbackhttp.Open: port 70000 is outside 0..65535");
  });

  test("-1 and 65536 are outside 0..65535", LIMIT, async () => {
    await expectError("Open", ["OnRequest", -1, -1], "ERR_PORT_RANGE", "port -1", "0..65535");
    await expectError("Open", ["OnRequest", -1, 65536], "ERR_PORT_RANGE", "port 65536", "0..65535");
  });
});

describe("ERR_TIMEOUT_RANGE", () => {
  test("Open's timeoutMs is -1 or 0..2147483647", LIMIT, async () => {
    await expectError("Open", ["OnRequest", -2], "ERR_TIMEOUT_RANGE", "timeoutMs -2");
    await expectError("Open", ["OnRequest", 2147483648], "ERR_TIMEOUT_RANGE", "timeoutMs 2147483648");
    const lid = await callbackhttp.Open("OnRequest", 2147483647, 0);
    try {
      assert.equal(callbackhttp.RouteTimeout(lid), 2147483647);
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("WaitDrained's and WaitRouteDrained's timeoutMs too", LIMIT, async () => {
    const lid = await openOne();
    try {
      for (const fn of ["WaitDrained", "WaitRouteDrained"] as const) {
        await expectError(fn, [lid, -2], "ERR_TIMEOUT_RANGE", "timeoutMs -2");
        await expectError(fn, [lid, 2147483648], "ERR_TIMEOUT_RANGE", "timeoutMs 2147483648");
        assert.equal(await call(fn, lid, 0), 1, "a drained listener answers 1 at once, even for 0 ms");
        assert.equal(await call(fn, lid, -1), 1);
      }
    } finally {
      await callbackhttp.Close(lid);
    }
  });
});

describe("ERR_BIND_MODE", () => {
  test("bind modes other than 0 and 1", LIMIT, async () => {
    await expectError("Open", ["OnRequest", -1, 0, 2], "ERR_BIND_MODE", "bindMode 2");
    await expectError("Open", ["OnRequest", -1, 0, -1], "ERR_BIND_MODE", "bindMode -1");
  });
});

describe("ERR_META_KEY", () => {
  test("RouteMeta keys outside 1..9", LIMIT, async () => {
    const lid = await openOne();
    try {
      await expectError("RouteMeta", [lid, 0], "ERR_META_KEY", "metaKey 0", "1..9");
      await expectError("RouteMeta", [lid, 10], "ERR_META_KEY", "metaKey 10", "1..9");
      for (let key = 1; key <= 9; key++) assert.equal(typeof callbackhttp.RouteMeta(lid, key), "number");
    } finally {
      await callbackhttp.Close(lid);
    }
  });
});

describe("ERR_UNKNOWN_CALLBACK", () => {
  test("a name no callback() declared, or one that cannot be a name", LIMIT, async () => {
    await expectError("Open", ["Nope", -1], "ERR_UNKNOWN_CALLBACK", '"Nope"');
    await expectError("Open", ["", -1], "ERR_UNKNOWN_CALLBACK", '""');
    await expectError("Open", ["On Request", -1], "ERR_UNKNOWN_CALLBACK", '"On Request"');
    await expectError("Open", ["onrequest", -1], "ERR_UNKNOWN_CALLBACK", '"onrequest"');
  });
});

describe("ERR_UNKNOWN_LISTENER", () => {
  test("ids that are not positive, or were never issued, on every listener function", LIMIT, async () => {
    const never = 2 ** 31;
    for (const id of [0, -1, never]) {
      for (const fn of ID_QUERIES) await expectError(fn, [id], "ERR_UNKNOWN_LISTENER", `unknown listener id ${id}`);
      await expectError("RouteMeta", [id, 1], "ERR_UNKNOWN_LISTENER", String(id));
      await expectError("WaitDrained", [id, 50], "ERR_UNKNOWN_LISTENER", String(id));
      await expectError("WaitRouteDrained", [id, 50], "ERR_UNKNOWN_LISTENER", String(id));
    }
  });

  test("RouteKnown answers 0 for any integer id it does not know", () => {
    for (const id of [0, -1, -(2 ** 53 - 1), 2 ** 31, Number.MAX_SAFE_INTEGER])
      assert.equal(callbackhttp.RouteKnown(id), 0);
  });
});

describe("ERR_BIND", () => {
  test("a port in use: EADDRINUSE in the message and cause; no id issued, OpenCount unchanged", LIMIT, async () => {
    const { server, port } = await holdPort();
    try {
      const previous = await openOne();
      await callbackhttp.Close(previous);
      const count = callbackhttp.OpenCount();
      const err = await expectError("Open", ["OnRequest", -1, port], "ERR_BIND", "EADDRINUSE", String(port));
      assert.equal((err.cause as NodeJS.ErrnoException | undefined)?.code, "EADDRINUSE");
      assert.equal(callbackhttp.OpenCount(), count);
      const next = await openOne();
      await callbackhttp.Close(next);
      assert.equal(next, previous + 1, "the failed Open used no id");
    } finally {
      server.close();
    }
  });
});

describe("ERR_THREAD", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "callbackhttp-errors-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a worker module that does not exist: named in the message; no id issued", LIMIT, async () => {
    const previous = await openOne();
    await callbackhttp.Close(previous);
    const count = callbackhttp.OpenCount();
    await expectError(
      "Open",
      ["OnRequest", -1, 0, 0, { workers: 1, module: "/nonexistent.js" }],
      "ERR_THREAD",
      "/nonexistent.js",
    );
    assert.equal(callbackhttp.OpenCount(), count);
    const next = await openOne();
    await callbackhttp.Close(next);
    assert.equal(next, previous + 1, "the failed Open used no id");
  });

  test("a worker module that does not export the callback: the callback is named", LIMIT, async () => {
    const module = join(dir, "other-export.mjs");
    writeFileSync(module, "export function Other() { return 1; }\n");
    const count = callbackhttp.OpenCount();
    await expectError("Open", ["OnRequest", -1, 0, 0, { workers: 1, module }], "ERR_THREAD", "OnRequest");
    assert.equal(callbackhttp.OpenCount(), count);
  });
});

describe("the order of the checks (contract section 6)", () => {
  test("types before ranges, ranges left to right, then the callback name, the options, the bind", LIMIT, async () => {
    const { server, port } = await holdPort();
    try {
      // Types of every argument before any range.
      await expectError("Open", [123, -2], "ERR_ARG_TYPE", "callbackName");
      await expectError("Open", ["Nope", -2, "x"], "ERR_ARG_TYPE", "port");
      await expectError("Open", ["Nope", -1, 70000, "x"], "ERR_ARG_TYPE", "bindMode");
      await expectError("Open", ["Nope", -2, 70000, 2, "x"], "ERR_ARG_TYPE", "options");
      // Ranges left to right.
      await expectError("Open", ["Nope", -2, 70000], "ERR_TIMEOUT_RANGE");
      await expectError("Open", ["Nope", -1, 70000, 2], "ERR_PORT_RANGE");
      // Ranges before the callback name.
      await expectError("Open", ["Nope", -1, 70000], "ERR_PORT_RANGE");
      await expectError("Open", ["Nope", -1, 0, 2], "ERR_BIND_MODE");
      // The callback name before the options, the options before the bind and the workers.
      await expectError("Open", ["Nope", -1, port, 0, { bogus: 1 }], "ERR_UNKNOWN_CALLBACK");
      await expectError("Open", ["OnRequest", -1, port, 0, { bogus: 1 }], "ERR_ARG_TYPE", '"bogus"');
      await expectError(
        "Open",
        ["OnRequest", -1, 0, 0, { workers: 1, module: "/nonexistent.js", bogus: 1 }],
        "ERR_ARG_TYPE",
      );
      await expectError("Open", ["OnRequest", -1, port], "ERR_BIND");
    } finally {
      server.close();
    }
  });

  test("an unknown listener id is its range error: after every type, before later ranges", LIMIT, async () => {
    const lid = await openOne();
    try {
      await expectError("RouteMeta", [0, "x"], "ERR_ARG_TYPE", "metaKey");
      await expectError("RouteMeta", [0, 10], "ERR_UNKNOWN_LISTENER");
      await expectError("RouteMeta", [lid, 10], "ERR_META_KEY");
      await expectError("WaitDrained", [0, "x"], "ERR_ARG_TYPE", "timeoutMs");
      await expectError("WaitDrained", [0, -2], "ERR_UNKNOWN_LISTENER");
      await expectError("WaitRouteDrained", [lid, -2], "ERR_TIMEOUT_RANGE");
    } finally {
      await callbackhttp.Close(lid);
    }
  });
});

describe("a closed listener keeps its record", () => {
  test("every query answers its final state and nothing throws", LIMIT, async () => {
    const count = callbackhttp.OpenCount();
    const lid = await callbackhttp.Open("OnRequest", 250, 0, callbackhttp.BindLocalOnly());
    const port = callbackhttp.Port(lid);
    assert.equal(callbackhttp.OpenCount(), count + 1);
    assert.equal(await callbackhttp.Close(lid), 1);
    assert.equal(callbackhttp.OpenCount(), count);

    assert.equal(callbackhttp.State(lid), 0);
    assert.equal(callbackhttp.StateText(lid), "closed");
    assert.equal(callbackhttp.RouteState(lid), 0);
    assert.equal(callbackhttp.RouteStateText(lid), "closed");
    assert.equal(callbackhttp.Port(lid), port);
    assert.equal(callbackhttp.BindMode(lid), 0);
    assert.equal(callbackhttp.BindModeText(lid), "local");
    assert.equal(callbackhttp.RouteCallback(lid), "OnRequest");
    assert.equal(callbackhttp.RouteTimeout(lid), 250);
    assert.equal(callbackhttp.RouteKnown(lid), 0);
    for (const fn of [
      "Active",
      "Pending",
      "Queued",
      "Running",
      "RoutePending",
      "RouteQueued",
      "RouteRunning",
    ] as const) {
      assert.equal(callbackhttp[fn](lid), 0, fn);
    }
    assert.equal(callbackhttp.Drained(lid), 1);
    assert.equal(callbackhttp.RouteDrained(lid), 1);
    assert.equal(callbackhttp.RouteCloseAccepted(lid), 1);
    assert.equal(callbackhttp.RouteClosedQueued(lid), 1);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((key) => callbackhttp.RouteMeta(lid, key)),
      [0, 250, 0, 0, 0, 1, 0, 1, 1],
    );
    assert.equal(
      callbackhttp.Info(lid),
      `id=${lid} state=closed callback=OnRequest timeout=250 port=${port} bind=local bindCode=0 active=0`,
    );
    assert.equal(
      callbackhttp.RouteInfo(lid),
      `id=${lid} state=closed stateCode=0 callback=OnRequest timeout=250 port=${port} bind=local bindCode=0 ` +
        "drained=1 pending=0 queued=0 running=0 active=0",
    );
    assert.equal(
      callbackhttp.RouteCloseInfo(lid),
      `id=${lid} state=closed callback=OnRequest timeout=250 port=${port} bind=local drained=1 pending=0 ` +
        "queued=0 running=0 active=0 closeAccepted=1 closedQueued=1",
    );
    assert.equal(await callbackhttp.WaitDrained(lid, 0), 1);
    assert.equal(await callbackhttp.WaitRouteDrained(lid, -1), 1);
    assert.equal(callbackhttp.RouteClose(lid), 0);
    assert.equal(await callbackhttp.Close(lid), 0);
    assert.equal(callbackhttp.OpenCount(), count, "a second Close does not count the listener closed twice");
  });

  test("after RouteClose alone: Close answers 0 and still closes it", LIMIT, async () => {
    const count = callbackhttp.OpenCount();
    const lid = await openOne();
    assert.equal(callbackhttp.RouteClose(lid), 1);
    assert.equal(callbackhttp.OpenCount(), count + 1, "OpenCount counts listeners not yet Closed");
    assert.equal(callbackhttp.RouteClose(lid), 0);
    assert.equal(await callbackhttp.Close(lid), 0);
    assert.equal(callbackhttp.OpenCount(), count);
  });
});

describe("HttpListener.open and the helpers raise the same class", () => {
  test("HttpListener.open checks its options", LIMIT, async () => {
    await assert.rejects(HttpListener.open({ callback: () => 1, port: 70000 }), {
      name: "CallbackHttpError",
      code: "ERR_PORT_RANGE",
      message: /^HttpListener\.open: port 70000/,
    });
    await assert.rejects(HttpListener.open({ callback: () => 1, bogus: 1 } as never), {
      code: "ERR_ARG_TYPE",
      message: /"bogus"/,
    });
  });

  test("HttpListener.open refuses an invalid callbackName it is given, not a function's own name", LIMIT, async () => {
    await assert.rejects(HttpListener.open({ callback: () => 1, callbackName: "On Request" }), {
      code: "ERR_ARG_TYPE",
      message: /^HttpListener\.open: callbackName "On Request" is not a valid name/,
    });
    // A bound function is named "bound OnRequest": not a valid name, so the listener shows "anonymous", as Open does.
    function OnRequest(): number {
      return 1;
    }
    for (const [callback, shown] of [
      [OnRequest.bind(null), "anonymous"],
      [OnRequest, "OnRequest"],
    ] as const) {
      const listener = await HttpListener.open({ callback });
      try {
        assert.equal(listener.callbackName, shown);
      } finally {
        await listener.close();
      }
    }
  });
});

test("every code of ERROR_CODES was raised above", () => {
  assert.deepEqual([...seen].sort(), Object.keys(ERROR_CODES).sort());
});
