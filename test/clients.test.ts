/**
 * Real clients against a real listener on 127.0.0.1: Node's fetch (undici),
 * curl and Python's http.client each get the right bytes back, on kept-alive
 * connections, with chunked uploads, 100-continue and pipelining.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { HttpListener, jsonResponse, parseRequest, textResponse } from "../src/index.js";
import { sendRaw } from "./support/raw-client.js";

const run = promisify(execFile);

/** The echo of one request, as the test listener answers it. */
interface Echo {
  method: string;
  path: string;
  query: string;
  body: string;
  expect: string | null;
  te: string | null;
  peerPort: number;
}

let listener: HttpListener;
let base: string;

before(async () => {
  listener = await HttpListener.open({
    callback: (ref, ctx) => {
      const req = parseRequest(ref.value as Uint8Array);
      return jsonResponse(200, {
        method: req.method,
        path: req.path,
        query: req.query,
        body: req.body.toString("utf8"),
        expect: req.headers.expect ?? null,
        te: req.headers["transfer-encoding"] ?? null,
        peerPort: ctx.remotePort,
      });
    },
  });
  base = `http://127.0.0.1:${listener.port}`;
});

after(async () => {
  await listener.close();
});

describe("Node's fetch", () => {
  test("GET and POST get their JSON answers, on kept-alive connections", async () => {
    const a = (await (await fetch(`${base}/a?x=1`)).json()) as Echo;
    const b = (await (await fetch(`${base}/b`, { method: "POST", body: "hello" })).json()) as Echo;
    assert.deepEqual([a.method, a.path, a.query], ["GET", "/a", "x=1"]);
    assert.deepEqual([b.method, b.path, b.body], ["POST", "/b", "hello"]);
    // undici may open a second connection while the first is being released; it must not need one per request.
    const ports = new Set<number>();
    for (let i = 0; i < 6; i++) ports.add(((await (await fetch(`${base}/k${i}`)).json()) as Echo).peerPort);
    assert.ok(ports.size <= 2, `6 requests used ${ports.size} connections`);
  });

  test("a streamed (chunked) upload arrives whole", async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("part1-"));
        controller.enqueue(new TextEncoder().encode("part2"));
        controller.close();
      },
    });
    const res = await fetch(`${base}/up`, { method: "PUT", body: stream, duplex: "half" } as RequestInit);
    const json = (await res.json()) as Echo;
    assert.equal(json.te, "chunked");
    assert.equal(json.body, "part1-part2");
  });
});

async function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("curl", ["--silent", "--show-error", "--max-time", "10", ...args], { timeout: 15000 });
}

describe("large uploads", () => {
  test("arrive byte for byte, several at once, and a request pipelined behind one is answered", async (t) => {
    // The answer: the body's length and sha256, so that a single wrong byte shows.
    const digest = (bytes: Uint8Array): string => `${bytes.length} ${createHash("sha256").update(bytes).digest("hex")}`;
    const uploads = await HttpListener.open({
      callback: (ref) => {
        const req = parseRequest(ref.value as Uint8Array);
        return textResponse(200, req.method === "POST" ? digest(req.body) : `${req.method} ${req.path}`);
      },
      maxBodyBytes: 4 * 1024 * 1024,
    });
    t.after(() => uploads.close());
    const url = `http://127.0.0.1:${uploads.port}/up`;
    const bodies = [3_000_000, 1_048_576, 700_001, 262_144, 65_537, 4096].map((n) => randomBytes(n));
    // Connection: close, so that the uploads below cannot reuse these connections.
    const upload = async (body: Buffer) =>
      (await fetch(url, { method: "POST", body, headers: { connection: "close" } })).text();
    const answers = await Promise.all(bodies.map(upload));
    assert.deepEqual(answers, bodies.map(digest));
    // The same on net.Sockets, which the listener reads directly too: it uses them while connections are traced.
    let sockets = 0;
    const traced = () => sockets++;
    diagnosticsChannel.subscribe("net.server.socket", traced);
    try {
      const some = bodies.slice(0, 3);
      assert.deepEqual(await Promise.all(some.map(upload)), some.map(digest));
      assert.equal(sockets, 3);
    } finally {
      diagnosticsChannel.unsubscribe("net.server.socket", traced);
    }
    // The end of a body and the next request in one read: the body is whole, the next one framed after it.
    const body = randomBytes(300_000);
    const { data } = await sendRaw(
      uploads.port,
      [
        Buffer.concat([
          Buffer.from(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`),
          body,
          Buffer.from("GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ]),
      ],
      { timeoutMs: 5000 },
    );
    const text = data.toString("latin1");
    assert.ok(text.includes(`\r\n\r\n${digest(body)}HTTP/1.1 200 OK`), text.slice(0, 300));
    assert.ok(text.endsWith("\r\n\r\nGET /after"), text.slice(-200));
  });
});

describe("curl", () => {
  test("two URLs in one call reuse the connection and get their answers", async () => {
    const { stdout, stderr } = await curl(["--verbose", `${base}/one`, `${base}/two`]);
    const answers = stdout.split("}{").length;
    assert.equal(answers, 2);
    assert.match(stdout, /"path":"\/one"/);
    assert.match(stdout, /"path":"\/two"/);
    assert.match(stderr, /Re-using existing connection|Reusing existing connection/);
  });

  test("an upload with Expect: 100-continue gets the interim 100 and the full body through", async () => {
    const body = "x".repeat(5000);
    const { stdout, stderr } = await curl([
      "--verbose",
      "-H",
      "Expect: 100-continue",
      "--data-binary",
      body,
      `${base}/upload`,
    ]);
    assert.match(stderr, /HTTP\/1\.1 100 Continue/);
    const json = JSON.parse(stdout);
    assert.equal(json.expect, "100-continue");
    assert.equal(json.body, body);
  });

  test("a chunked upload arrives decoded", async () => {
    const { stdout } = await curl(["-H", "Transfer-Encoding: chunked", "--data-binary", "chunky body", `${base}/c`]);
    const json = JSON.parse(stdout);
    assert.equal(json.te, "chunked");
    assert.equal(json.body, "chunky body");
  });
});

const PYTHON = String.raw`
import http.client, json, socket, sys
port = int(sys.argv[1])
out = {}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
conn.request("GET", "/py1")
r1 = conn.getresponse(); b1 = json.loads(r1.read())
conn.request("POST", "/py2", body=b"from python", headers={"Content-Type": "text/plain"})
r2 = conn.getresponse(); b2 = json.loads(r2.read())
out["keepalive"] = [r1.status, b1["path"], r2.status, b2["path"], b2["body"], b1["peerPort"] == b2["peerPort"]]
# Pipelining: two requests written at once, both answers read with http.client's parser, in order.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n")
class KeptFile:
    # http.client reads a response through sock.makefile() and closes that file
    # when the body is read; one shared buffered file, never closed, keeps the
    # second response's bytes for the second parser.
    def __init__(self, f): self.f = f
    def __getattr__(self, name): return getattr(self.f, name)
    def close(self): pass
class OneReader:
    def __init__(self, sock): self.file = KeptFile(sock.makefile("rb"))
    def makefile(self, *args, **kwargs): return self.file
reader = OneReader(s)
paths = []
for _ in range(2):
    r = http.client.HTTPResponse(reader)
    r.begin()
    paths.append(json.loads(r.read())["path"])
s.close()
out["pipelined"] = paths
print(json.dumps(out))
`;

describe("Python http.client", () => {
  test("keep-alive requests and a pipelined pair get their answers in order", async () => {
    const { stdout } = await run("python3", ["-c", PYTHON, String(listener.port)], { timeout: 15000 });
    const out = JSON.parse(stdout);
    assert.deepEqual(out.keepalive, [200, "/py1", 200, "/py2", "from python", true]);
    assert.deepEqual(out.pipelined, ["/p1", "/p2"]);
  });
});
