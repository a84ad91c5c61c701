/**
 * The package as a user imports it: by name, through its exports map, with
 * the surface of contract section 1, and the asyncmeta vocabulary of section 3.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

test("the package root exports the public surface", async () => {
  const pkg = await import("callbackhttp");
  for (const name of ["callbackhttp", "asyncmeta", "callback", "HttpListener", "CallbackHttpError"]) {
    assert.ok(name in pkg, `exports ${name}`);
  }
  for (const name of ["parseRequest", "buildResponse", "textResponse", "jsonResponse", "decodeChunked"]) {
    assert.equal(typeof (pkg as Record<string, unknown>)[name], "function", `exports ${name}`);
  }
  assert.equal(Object.keys(pkg.callbackhttp).length, 34);
});

test("asyncmeta has the whole vocabulary with the reference's values", async () => {
  const { asyncmeta, CallbackHttpError } = await import("callbackhttp");
  const values = {
    RouteStateClosed: 0,
    RouteStateOpen: 1,
    RouteMetaState: 1,
    RouteMetaTimeout: 2,
    RouteMetaPending: 3,
    RouteMetaQueued: 4,
    RouteMetaRunning: 5,
    RouteMetaDrained: 6,
    RouteMetaKnown: 7,
    RouteMetaCloseAccepted: 8,
    RouteMetaClosedQueued: 9,
    CapWaitDrained: 2,
    CapRouteMeta: 8,
    CapRouteInfo: 128,
    CapRouteClose: 256,
    CapKnown: 2048,
    ProfileRouteControl: 2442,
  };
  for (const [name, value] of Object.entries(values)) {
    assert.equal((asyncmeta as unknown as Record<string, () => number>)[name]!(), value, name);
  }
  assert.equal(asyncmeta.SupportsKnown(3701), 1);
  assert.equal(asyncmeta.SupportsWaitDrained(3701), 0);
  assert.equal(asyncmeta.SupportsRouteClose(2442), 1);
  assert.equal(asyncmeta.SupportsRouteInfo(2442), 1);
  assert.equal(asyncmeta.SupportsRouteMeta(0), 0);
  assert.throws(
    () => asyncmeta.SupportsKnown(1.5),
    (e) => e instanceof CallbackHttpError && e.code === "ERR_ARG_TYPE",
  );
  assert.throws(
    () => (asyncmeta.CapKnown as (x: number) => number)(1),
    (e) => e instanceof CallbackHttpError && e.code === "ERR_ARG_COUNT",
  );
});
