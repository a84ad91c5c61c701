/**
 * Test support: a throw-away self-signed certificate for 127.0.0.1, made with
 * the openssl command in a temporary folder that `remove()` deletes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function selfSigned(): { key: Buffer; cert: Buffer; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "callbackhttp-tls-"));
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
  return {
    key: readFileSync(key),
    cert: readFileSync(cert),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
