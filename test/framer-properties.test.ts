/**
 * Property-based tests of the framer (fast-check): valid requests and
 * pipelines frame to exactly themselves whatever the pieces; limits fall
 * exactly where the byte counts say; random, HTTP-like and mutated bytes never
 * throw and always end in delivered requests, an allowed error status or an
 * unfinished request, identically whatever the pieces.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { escapeBytes } from "./fixtures/requests/load.js";
import { bytewise, cutAt, describeTrace, frame, framerLimits } from "./fixtures/requests/replay.js";
import { cuts, httpishBytes, limitOutcome, mutation, pipeline, validRequest } from "./fuzz/arbitraries.js";
import { checkFraming } from "./fuzz/invariants.js";
import { mutate } from "./fuzz/mutate.js";

const limits = framerLimits();
// Fixed seeds: a failure is reproducible; fast-check prints the seed and path to replay it.
const params = (seed: number, numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns });

test("a valid request is framed as exactly itself, whole, cut anywhere and byte by byte", () => {
  fc.assert(
    fc.property(validRequest, cuts(400), (r, at) => {
      const expected = `request ${escapeBytes(r.bytes)}`;
      for (const pieces of [[r.bytes], cutAt(r.bytes, at), bytewise(r.bytes)]) {
        const t = frame(pieces, limits);
        assert.equal(describeTrace(t, false), `${expected}\nidle`);
      }
    }),
    params(0x5eed1, 300),
  );
});

test("a pipeline of valid requests is framed into exactly those requests, whatever the cuts", () => {
  fc.assert(
    fc.property(pipeline, cuts(1200), (p, at) => {
      const expected = [...p.requests.map((r) => `request ${escapeBytes(r)}`), "idle"].join("\n");
      assert.equal(describeTrace(frame([p.input], limits), false), expected);
      assert.equal(describeTrace(frame(cutAt(p.input, at), limits), false), expected);
    }),
    params(0x5eed2, 200),
  );
});

test("limits: a valid request is refused 431 or 413 exactly when its bytes cross them", () => {
  fc.assert(
    fc.property(
      validRequest,
      fc.integer({ min: 64, max: 400 }),
      fc.integer({ min: 0, max: 120 }),
      cuts(400),
      (r, maxHeaderBytes, maxBodyBytes, at) => {
        const small = { maxHeaderBytes, maxBodyBytes };
        const status = limitOutcome(r, maxHeaderBytes, maxBodyBytes);
        const expected = status === null ? `request ${escapeBytes(r.bytes)}\nidle` : `status ${status}`;
        assert.equal(describeTrace(frame([r.bytes], small), false), expected);
        assert.equal(describeTrace(frame(cutAt(r.bytes, at), small), false), expected);
      },
    ),
    params(0x5eed3, 400),
  );
});

const invariantsHold = (input: Buffer, at: number[], small = false): void => {
  const lim = small ? framerLimits({ maxHeaderBytes: 80, maxBodyBytes: 16 }) : limits;
  const { problem } = checkFraming(input, lim, { cuts: at, bytewise: input.length <= 600 });
  if (problem !== null) assert.fail(`${problem}\ninput: ${escapeBytes(input, 4000)}`);
};

test("uniformly random bytes never throw and end in requests, an allowed status or an unfinished request", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), cuts(300), (bytes, at) => invariantsHold(Buffer.from(bytes), at)),
    params(0x5eed4, 500),
  );
});

test("HTTP-like byte strings keep the same invariants", () => {
  fc.assert(
    fc.property(httpishBytes, cuts(600), fc.boolean(), (bytes, at, small) => invariantsHold(bytes, at, small)),
    params(0x5eed5, 800),
  );
});

test("mutated valid pipelines keep the same invariants", () => {
  fc.assert(
    fc.property(
      pipeline,
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      cuts(1200),
      fc.boolean(),
      (p, muts, at, small) => {
        const input = muts.reduce(mutate, p.input);
        invariantsHold(input, at, small);
      },
    ),
    params(0x5eed6, 800),
  );
});

test("the generators reach every kind of body and every ending, so the properties are not vacuous", () => {
  const kinds = new Set<string>();
  for (const r of fc.sample(validRequest, { numRuns: 300, seed: 0x5eed7 })) {
    kinds.add(r.chunkCosts.length > 0 ? "chunked" : r.contentLength >= 0 ? "length" : "none");
    kinds.add(r.bytes.toString("latin1", 0, r.bytes.indexOf(" ")));
  }
  for (const k of ["chunked", "length", "none", "GET", "HEAD", "OPTIONS", "CONNECT"])
    assert.ok(kinds.has(k), `no ${k}`);
  const ends = new Set<string>();
  const samples = fc.sample(fc.tuple(pipeline, fc.array(mutation, { minLength: 1, maxLength: 4 })), {
    numRuns: 600,
    seed: 0x5eed6,
  });
  for (const [p, muts] of samples) {
    const t = frame([muts.reduce(mutate, p.input)], framerLimits({ maxHeaderBytes: 80, maxBodyBytes: 16 }));
    ends.add(`${t.end}${t.requests.length > 0 ? "+requests" : ""}`);
  }
  for (const e of ["idle+requests", "partial", "400", "400+requests", "431", "413"]) {
    assert.ok(ends.has(e), `no mutated input ends ${e}: ${[...ends].join(" ")}`);
  }
});
