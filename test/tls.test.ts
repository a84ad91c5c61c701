/**
 * The `tls` option: the listener speaks HTTPS with the same framing, callback
 * and keep-alive as over plain TCP. The certificate is made for the test with
 * the openssl command.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { connect, type Socket } from "node:net";
import { before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { HttpListener } from "../src/index.js";
import { workerThreadCount } from "../src/worker-pool.js";
import { selfSigned } from "./support/self-signed.js";

/** One certificate for every test of the file (openssl makes an RSA key each time it is asked). */
let key: Buffer;
let cert: Buffer;
before(() => {
  const made = selfSigned();
  made.remove();
  ({ key, cert } = made);
});

/** GET `path` over HTTPS with Node's client, trusting the test's certificate: "<status> <body>". */
function httpsGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, ca: cert }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve(`${res.statusCode} ${data}`));
    });
    req.on("error", reject);
    req.end();
  });
}

test("an HTTPS listener answers over TLS with the callback's exact bytes", async () => {
  const listener = await HttpListener.open({
    callback: (ref) => {
      const line = Buffer.from(ref.value as Uint8Array)
        .toString("latin1")
        .split("\r\n")[0]!;
      return `HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`;
    },
    tls: { key, cert },
  });
  try {
    assert.equal(await httpsGet(listener.port, "/secure?x=1"), "200 GET /secure?x=1 HTTP/1.1");
    assert.equal(listener.stats().requests, 1);
  } finally {
    await listener.close();
  }
});

/** A TCP client of `port` that starts no TLS handshake; `closed` resolves (ms since connect) when the server closes it. */
async function silentClient(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const started = Date.now();
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - started)));
  return { socket, closed };
}

/** What `promise` resolves to, or `late` if it has not within 5 s. */
function within5s<T>(promise: Promise<T>, late: string): Promise<T | string> {
  const timer = new Promise<string>((resolve) => setTimeout(() => resolve(late), 5000).unref());
  return Promise.race([promise, timer]);
}

test("a connection that never completes its TLS handshake is closed after headersTimeoutMs", {
  timeout: 20_000,
}, async (t) => {
  const listener = await HttpListener.open({ callback: () => "", tls: { key, cert }, headersTimeoutMs: 300 });
  t.after(() => listener.close());
  const client = await silentClient(listener.port);
  assert.equal(typeof (await within5s(client.closed, "still open after 5 s")), "number", "the listener closed it");
});

test("RouteClose and Close end TLS handshakes still under way: Close resolves, the client sees its close", {
  timeout: 20_000,
}, async () => {
  // The default headersTimeoutMs (60 s) would keep the handshake, and with it Close, waiting.
  const listener = await HttpListener.open({ callback: () => "", tls: { key, cert } });
  const clients = await Promise.all([silentClient(listener.port), silentClient(listener.port)]);
  const closing = listener.close().then(() => "closed");
  assert.equal(await within5s(closing, "Close still waiting after 5 s"), "closed");
  for (const client of clients) assert.equal(typeof (await client.closed), "number");
});

test("a client that sends garbage instead of a TLS handshake is closed at once and counts nowhere", {
  timeout: 20_000,
}, async (t) => {
  const listener = await HttpListener.open({ callback: () => "", tls: { key, cert } });
  t.after(() => listener.close());
  const { socket, closed } = await silentClient(listener.port);
  socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  // The default headersTimeoutMs (60 s) bounds a silent handshake; a failed one ends now.
  assert.equal(typeof (await within5s(closed, "still open after 5 s")), "number", "the listener closed it");
  assert.deepEqual([listener.stats().connections, listener.stats().requests], [0, 0]);
});

test("a client that renegotiates past Node's limit loses its connection; the listener serves others", {
  timeout: 20_000,
}, async () => {
  const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const listener = await HttpListener.open({ callback: () => OK, tls: { key, cert } });
  try {
    // TLS 1.2: TLS 1.3 has no renegotiation. Node allows tls.CLIENT_RENEG_LIMIT (3) in 10 minutes.
    const client = tlsConnect({
      host: "127.0.0.1",
      port: listener.port,
      ca: cert,
      maxVersion: "TLSv1.2",
      servername: "",
    });
    client.on("error", () => {});
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    await new Promise<void>((resolve) => client.once("secureConnect", () => resolve()));
    let accepted = 0;
    for (let i = 0; i < 6 && !client.destroyed; i++) {
      // Past the limit the server closes the connection, and the renegotiation never completes.
      const ok = await Promise.race([
        new Promise<boolean>((resolve) => {
          const asked = client.renegotiate({}, (err) => resolve(err === null || err === undefined));
          if (!asked) resolve(false);
        }),
        closed.then(() => false),
      ]);
      if (ok) accepted++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await within5s(closed, "open"), undefined, "the server closed the connection");
    assert.ok(accepted <= 3, `${accepted} renegotiations went through`);
    assert.equal(await httpsGet(listener.port, "/"), "200 ok", "another client is served");
  } finally {
    await listener.close();
  }
});

test("tls options that node:tls refuses fail Open with ERR_ARG_TYPE, before any worker starts", async () => {
  const refused = (err: Error & { code?: string }): boolean => {
    assert.equal(err.code, "ERR_ARG_TYPE");
    assert.match(err.message, /^HttpListener\.open: option tls was refused by node:tls: /);
    assert.ok(err.cause instanceof Error, "node:tls's own error as the cause");
    return true;
  };
  // A certificate without its key: every handshake would fail.
  await assert.rejects(HttpListener.open({ callback: () => "x", tls: { cert } }), {
    code: "ERR_ARG_TYPE",
    message:
      'HttpListener.open: option tls needs key and cert, pfx, or SNICallback; got an object with the keys ["cert"]',
  });
  // The key and the certificate swapped.
  await assert.rejects(HttpListener.open({ callback: () => "x", tls: { key: cert, cert: key } }), refused);
  const module = new URL("./fixtures/workers/handlers.js", import.meta.url).href;
  await assert.rejects(
    HttpListener.open({ callback: "Handler", workers: 1, module, tls: { key: "not a key", cert: "not a cert" } }),
    refused,
  );
  assert.equal(workerThreadCount(), 0, "no worker thread was left running");
});
