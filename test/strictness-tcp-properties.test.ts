/**
 * A time-bounded TCP property: mutated and HTTP-like inputs, sent to a real
 * listener on 127.0.0.1 in random pieces, never crash or hang it. Every
 * connection closes within its time limit with exactly the answers the framer's
 * own verdict predicts (an echo per delivered request up to one that ends the
 * connection, then the canned error), and afterwards the listener is drained
 * and still answers.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { HttpListener } from "../src/index.js";
import { escapeBytes } from "./fixtures/requests/load.js";
import { cutAt, expectedResponses, frame, framerLimits, splitResponses } from "./fixtures/requests/replay.js";
import { cuts, httpishBytes, mutation, pipeline } from "./fuzz/arbitraries.js";
import { mutate } from "./fuzz/mutate.js";
import { sendRaw, statuses } from "./support/raw-client.js";

const SMALL = { maxHeaderBytes: 96, maxBodyBytes: 24 };
let listener: HttpListener;

before(async () => {
  listener = await HttpListener.open({
    callback: (ref) => {
      const bytes = Buffer.from(ref.value as Uint8Array);
      return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length}\r\n\r\n`), bytes]);
    },
    port: 0,
    ...SMALL,
  });
});

after(async () => {
  await listener.close();
});

const input = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(pipeline, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([p, m]) => m.reduce(mutate, p.input)),
  },
  { weight: 1, arbitrary: httpishBytes },
);

test("mutated inputs over TCP get the predicted answers and the connection always closes", async () => {
  await fc.assert(
    fc.asyncProperty(input, cuts(400), async (bytes, at) => {
      const pieces = cutAt(bytes, at);
      const trace = frame([bytes], framerLimits(SMALL));
      // After a framing error the listener must close by itself: the client keeps its side open then.
      const listenerCloses = typeof trace.end === "number";
      const reply = await sendRaw(listener.port, pieces, {
        end: !listenerCloses,
        gapMs: pieces.length > 1 ? 1 : 0,
        timeoutMs: 4000,
      });
      const where = `input: ${escapeBytes(bytes, 4000)}\ncuts: ${at.join(",")}`;
      assert.ok(reply.closed, `the connection did not close in time\n${where}`);
      const want = expectedResponses(trace);
      const got = splitResponses(reply.data);
      assert.deepEqual(
        got.map((r) => escapeBytes(r, 20000)),
        want.map((r) => escapeBytes(r, 20000)),
        where,
      );
    }),
    { seed: 0x7c9, numRuns: 300 },
  );
});

test("after the storm the listener is drained and still answers", async () => {
  assert.equal(await listener.waitDrained(2000), true);
  const stats = listener.stats();
  assert.equal(stats.pending, 0);
  assert.equal(stats.queued, 0);
  assert.equal(stats.running, 0);
  const reply = await sendRaw(listener.port, ["GET /alive HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"], {
    timeoutMs: 4000,
  });
  assert.ok(reply.closed);
  assert.deepEqual(statuses(reply.data), [200]);
});
