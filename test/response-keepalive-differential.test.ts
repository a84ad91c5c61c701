/**
 * `responseKeepsAlive` (src/response-head.ts) against Node's own http client
 * (llhttp's response parser), see test/differential/response-keepalive.ts: on
 * the table of hand-written responses and a fixed-seed sample of generated
 * ones, for a GET, a HEAD and an HTTP/1.0 keep-alive GET, whenever the
 * listener would keep the connection open after a response R, a raw server on
 * 127.0.0.1 writes R unchanged and keeps the connection open, and Node's
 * client (a keep-alive Agent with one socket) must read R as exactly its bytes
 * and then the next response cleanly on the same connection.
 * `node build/test/differential/response-keepalive-run.js` runs the same check
 * at any size, with curl as a second client (--curl).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  DESYNC,
  describeOutcome,
  groupOutcomes,
  judgeNode,
  type Outcome,
  type ResponseClass,
  type ResponseOracle,
  type ResponseReport,
  runResponseDifferential,
  startResponseOracle,
} from "./differential/response-keepalive.js";
import { caseResponses, generatedResponses } from "./differential/response-keepalive-inputs.js";

const SEED = 20260612;
/** Generated responses on top of the table: about 700 exchanges, a second or two. */
const COUNT = 3000;

let oracle: ResponseOracle;
let report: ResponseReport;

before(async () => {
  oracle = await startResponseOracle();
  report = await runResponseDifferential(oracle, [...caseResponses(), ...generatedResponses(SEED, COUNT)]);
});

after(async () => {
  await oracle.close();
});

const total = (cls: ResponseClass): number => Object.values(report.counts.node).reduce((n, bySet) => n + bySet[cls], 0);

/** One line per cause: its count and the shortest input with what Node did. */
function listing(outcomes: readonly Outcome[]): string {
  return [...groupOutcomes(outcomes)]
    .map(([cause, group]) => `${cause} (${group.length})\n${describeOutcome(group[0]!)}`)
    .join("\n");
}

test("the client answered every exchange, and inputs reached both keep-alive and close", (t) => {
  t.diagnostic(
    `node ${process.version}, llhttp ${process.versions.llhttp}: ${report.inputs} responses, ` +
      `${report.exchanges} exchanges in ${report.elapsedMs} ms`,
  );
  for (const [oracleName, bySet] of Object.entries(report.counts))
    for (const [set, counts] of Object.entries(bySet))
      t.diagnostic(
        `${oracleName} ${set}: ${Object.entries(counts)
          .filter(([, n]) => n > 0)
          .map(([c, n]) => `${c} ${n}`)
          .join(", ")}`,
      );
  assert.ok(total("agree") > 250, `only ${total("agree")} kept-alive responses read cleanly`);
  assert.ok(total("we-close") > 5000, `only ${total("we-close")} responses closed after`);
});

test("the check sees a desync where there is one: responses we close after, kept open", async () => {
  const bad: [string, string][] = [
    ["Content-Length past the end", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello"],
    ["Content-Length short of the end", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhello"],
    ["no framing", "HTTP/1.1 200 OK\r\n\r\nhello"],
    ["chunked without its last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"],
    [
      "chunked with bytes after it",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n",
    ],
    ["a 204 with a body", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"],
  ];
  // Each one is a desync for Node in at least one of the two modes (S after the second request, or back to back).
  const judged = await Promise.all(
    bad.map(async ([name, r]) => {
      const bytes = Buffer.from(r, "latin1");
      const modes = await Promise.all(
        [false, true].map(async (b2b) => judgeNode(bytes, "GET", true, await oracle.node(bytes, "GET", true, b2b)).cls),
      );
      return [name, modes] as const;
    }),
  );
  for (const [name, modes] of judged)
    assert.ok(
      modes.some((cls) => DESYNC.has(cls)),
      `${name}: ${modes.join(", ")}`,
    );
});

test("whenever the listener keeps a connection open after a response, Node's http client reads that response as exactly its bytes and the next response cleanly", async (t) => {
  await t.test("no desync: what Node accepts it reads as exactly R, then S on the same connection", () => {
    const desync = report.outcomes.filter((o) => DESYNC.has(o.judgement.cls));
    assert.equal(desync.length, 0, `read differently by Node after we kept the connection open:\n${listing(desync)}`);
  });
  await t.test("Node accepts every response we keep the connection open after", () => {
    // The same refusals show in both modes: list them once.
    const rejected = report.outcomes.filter((o) => o.oracle === "node" && o.judgement.cls === "client-rejects");
    assert.equal(rejected.length, 0, `refused by Node after we kept the connection open:\n${listing(rejected)}`);
  });
});
