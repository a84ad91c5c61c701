/**
 * The request table (test/fixtures/requests/*.md) replayed over real TCP on
 * 127.0.0.1 against listeners whose callback answers with the exact bytes it
 * received. For each case, whole and cut at a few places: the callback sees
 * exactly the case's requests (up to one that ends the connection), each gets
 * its echo in order, a framing error gets the listener's canned response after
 * them, and the connection is closed (by the listener itself after an error:
 * the client keeps its side open then).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { REQUEST_FLAGS } from "../src/framer.js";
import { HttpListener } from "../src/index.js";
import { escapeBytes, type FramerCaseLimits, loadCases, type RequestCase } from "./fixtures/requests/load.js";
import {
  cannedBytes,
  cutAt,
  expectedResponses,
  frame,
  framerLimits,
  splitResponses,
  type Trace,
} from "./fixtures/requests/replay.js";
import { sendRaw, statuses } from "./support/raw-client.js";

const cases = loadCases();

interface EchoListener {
  listener: HttpListener;
  /** The bytes of every callback call, in order. */
  received: Buffer[];
}

const listeners = new Map<string, EchoListener>();
const limitsKey = (limits: FramerCaseLimits): string => JSON.stringify(framerLimits(limits));

before(async () => {
  for (const c of cases) {
    const key = limitsKey(c.limits);
    if (listeners.has(key)) continue;
    const received: Buffer[] = [];
    const listener = await HttpListener.open({
      callback: (ref) => {
        const bytes = Buffer.from(ref.value as Uint8Array);
        received.push(bytes);
        return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length}\r\n\r\n`), bytes]);
      },
      port: 0,
      ...framerLimits(c.limits),
    });
    listeners.set(key, { listener, received });
  }
});

after(async () => {
  for (const { listener } of listeners.values()) await listener.close();
});

/** A few cut points: after the first byte, at the end of the first head, in the middle, before the last byte. */
function cutPoints(input: Buffer): number[][] {
  const n = input.length;
  if (n < 2) return [];
  const head = input.indexOf("\r\n\r\n");
  const points = [1, head >= 0 ? head + 2 : 0, n >> 1, n - 1].filter((p) => p > 0 && p < n);
  const single = [...new Set(points)].map((p) => [p]);
  // And once in three pieces.
  return n >= 3 ? [...single, [n / 3, (2 * n) / 3].map(Math.floor)] : single;
}

/** The trace the case states, with the flags the framer gives (they decide where the listener stops). */
function statedTrace(c: RequestCase): Trace {
  const unit = frame([c.input], framerLimits(c.limits));
  return { ...unit, requests: [...c.requests], end: c.end };
}

async function replay(c: RequestCase, pieces: Buffer[], how: string): Promise<void> {
  const echo = listeners.get(limitsKey(c.limits))!;
  echo.received.length = 0;
  // After a framing error the listener closes the connection itself: the client does not end
  // its side then, so that only the listener's close can close it. Otherwise the client's FIN ends the exchange.
  const listenerCloses = typeof c.end === "number";
  const reply = await sendRaw(echo.listener.port, pieces, {
    end: !listenerCloses,
    gapMs: pieces.length > 1 ? 1 : 0,
    timeoutMs: 5000,
  });
  const where = `${c.id}, ${how}`;
  assert.ok(reply.closed, `${where}: the connection was not closed`);
  const trace = statedTrace(c);
  const want = expectedResponses(trace);
  const got = splitResponses(reply.data);
  assert.deepEqual(
    got.map((r) => escapeBytes(r, 20000)),
    want.map((r) => escapeBytes(r, 20000)),
    `${where}: responses`,
  );
  // The callback saw exactly the requests that were answered, and nothing else.
  const answered = want.filter((r) => r.subarray(0, 12).toString("latin1") === "HTTP/1.1 200").length;
  assert.deepEqual(
    echo.received.map((r) => escapeBytes(r, 20000)),
    c.requests.slice(0, answered).map((r) => escapeBytes(r, 20000)),
    `${where}: bytes the callback received`,
  );
  const canned = typeof c.end === "number" ? cannedBytes(c.end, (trace.endFlags & REQUEST_FLAGS.HEAD) !== 0) : null;
  if (typeof c.end === "number" && canned !== null && want.at(-1)?.equals(canned)) {
    const codes = statuses(reply.data).filter((s) => s !== 100);
    assert.deepEqual(codes, [...c.requests.slice(0, answered).map(() => 200), c.end], `${where}: statuses`);
    assert.ok(reply.data.subarray(reply.data.length - canned.length).equals(canned));
  }
}

for (const file of [...new Set(cases.map((c) => c.file))]) {
  describe(`over TCP: ${file}`, () => {
    for (const c of cases.filter((k) => k.file === file)) {
      test(c.name, async () => {
        await replay(c, [c.input], "whole");
        for (const cuts of cutPoints(c.input)) await replay(c, cutAt(c.input, cuts), `cut at ${cuts.join(",")}`);
      });
    }
  });
}

test("over TCP: a good request before a bad one in the same write is answered first", async () => {
  const echo = listeners.get(limitsKey({}))!;
  const good = "GET /first HTTP/1.1\r\nHost: h\r\n\r\n";
  const reply = await sendRaw(echo.listener.port, [`${good}GET /second HTTP/1.1\r\nHost : h\r\n\r\n`], {
    timeoutMs: 5000,
  });
  assert.ok(reply.closed);
  assert.deepEqual(statuses(reply.data), [200, 400]);
  const text = reply.data.toString("latin1");
  assert.ok(text.startsWith(`HTTP/1.1 200 OK\r\nContent-Length: ${good.length}\r\n\r\n${good}`));
  assert.ok(text.endsWith("\r\nConnection: close\r\n\r\n400 Bad Request\n"));
});
