/**
 * The `tls` option: the listener speaks HTTPS with the same framing, callback
 * and keep-alive as over plain TCP. The certificate is made for the test with
 * the openssl command.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HttpListener } from "../src/index.js";

test("an HTTPS listener answers over TLS with the callback's exact bytes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "callbackhttp-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  const listener = await HttpListener.open({
    callback: (ref) => {
      const line = Buffer.from(ref.value as Uint8Array)
        .toString("latin1")
        .split("\r\n")[0]!;
      return `HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`;
    },
    tls: { key: readFileSync(key), cert: readFileSync(cert) },
  });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: listener.port, path: "/secure?x=1", ca: readFileSync(cert) },
        (res) => {
          let data = "";
          res.on("data", (d) => (data += d));
          res.on("end", () => resolve(`${res.statusCode} ${data}`));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(body, "200 GET /secure?x=1 HTTP/1.1");
    assert.equal(listener.stats().requests, 1);
  } finally {
    await listener.close();
  }
});
