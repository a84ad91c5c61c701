/**
 * The `tls` option: the listener speaks HTTPS with the same framing, callback
 * and keep-alive as over plain TCP. The certificate is made for the test with
 * the openssl command.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { test } from "node:test";
import { HttpListener } from "../src/index.js";
import { selfSigned } from "./support/self-signed.js";

test("an HTTPS listener answers over TLS with the callback's exact bytes", async (t) => {
  const { key, cert, remove } = selfSigned();
  t.after(remove);
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
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: listener.port, path: "/secure?x=1", ca: cert }, (res) => {
        let data = "";
        res.on("data", (d) => (data += d));
        res.on("end", () => resolve(`${res.statusCode} ${data}`));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(body, "200 GET /secure?x=1 HTTP/1.1");
    assert.equal(listener.stats().requests, 1);
  } finally {
    await listener.close();
  }
});
