/**
 * The documentation kept in step with the code: docs/errors.md has one
 * `### ERR_...` heading for each code of ERROR_CODES and none other (the way
 * fastify's test/internals/errors.test.js guards its error docs); docs/api.md
 * has one heading for each of the 34 functions; docs/options.md has one for
 * each listener option, and what it says of an idle connection holds.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { callback, callbackhttp, DEFAULT_LIMITS, ERROR_CODES } from "../src/index.js";

/** A file of docs/, from build/test/ or test/ alike (both are two levels below the root). */
function doc(name: string): string {
  return readFileSync(new URL(`../../docs/${name}`, import.meta.url), "utf8");
}

/** The text of every heading of `level` (e.g. "###") in `markdown`, outside code blocks. */
function headings(markdown: string, level: string): string[] {
  const found: string[] = [];
  let inCode = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inCode = !inCode;
    else if (!inCode && line.startsWith(`${level} `)) found.push(line.slice(level.length + 1).trim());
  }
  return found;
}

/** The names that occur more than once in `names`. */
function repeated(names: string[]): string[] {
  return names.filter((name, i) => names.indexOf(name) !== i);
}

describe("docs/errors.md", () => {
  const text = doc("errors.md");
  const documented = headings(text, "###").filter((h) => h.startsWith("ERR_"));

  test("every code of ERROR_CODES has a ### heading", () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !documented.includes(code));
    assert.deepEqual(missing, [], `codes without a heading in docs/errors.md: ${missing.join(", ")}`);
  });

  test("every ### ERR_ heading is a code of ERROR_CODES, once", () => {
    const unknown = documented.filter((code) => !Object.hasOwn(ERROR_CODES, code));
    assert.deepEqual(unknown, [], `headings for codes the code does not have: ${unknown.join(", ")}`);
    assert.deepEqual(repeated(documented), []);
  });

  test("every code's section says when it is raised, shows a message and names who raises it", () => {
    const sections = text.split(/^### /m).slice(1);
    for (const section of sections.filter((s) => s.startsWith("ERR_"))) {
      const code = section.slice(0, section.indexOf("\n")).trim();
      for (const part of ["**When:**", "**Example message:**", "**Raised by:**"]) {
        assert.ok(section.includes(part), `${code}: no ${part}`);
      }
    }
  });
});

describe("docs/api.md", () => {
  test("one heading per function of callbackhttp, none other", () => {
    const documented = headings(doc("api.md"), "###")
      .map((h) => /^`?callbackhttp\.([A-Za-z]+)\(/.exec(h)?.[1])
      .filter((name): name is string => name !== undefined);
    assert.deepEqual(repeated(documented), []);
    assert.deepEqual([...documented].sort(), Object.keys(callbackhttp).sort());
  });
});

describe("docs/options.md", () => {
  test("one heading per listener option, none other", () => {
    const documented = headings(doc("options.md"), "###").map((h) => h.replace(/`/g, ""));
    assert.deepEqual(repeated(documented), []);
    assert.deepEqual([...documented].sort(), Object.keys(DEFAULT_LIMITS).sort());
  });
});

/** Open a connection that sends `bytes` (default nothing); resolve true if the listener closes it within `ms`. */
function silentConnectionClosed(port: number, ms: number, bytes = ""): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    if (bytes !== "") socket.write(bytes);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe("docs/options.md: a connection that never sends a request", () => {
  test("is closed after keepAliveTimeoutMs when it sends nothing", { timeout: 5000 }, async () => {
    callback("Silent", (_r) => 1);
    const lid = await callbackhttp.Open("Silent", -1, 0, 0, { keepAliveTimeoutMs: 100 });
    try {
      assert.equal(await silentConnectionClosed(callbackhttp.Port(lid), 2000), true);
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("nor one that sends only an empty line (RFC 9112 2.2 lets it precede a request line)", {
    timeout: 5000,
  }, async () => {
    callback("Silent", (_r) => 1);
    const lid = await callbackhttp.Open("Silent", -1, 0, 0, { keepAliveTimeoutMs: 100 });
    try {
      assert.equal(
        await silentConnectionClosed(callbackhttp.Port(lid), 2000, "\r\n"),
        true,
        "a connection that sent CRLF and nothing else was still open after 2 s",
      );
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("is not kept forever when keepAliveTimeoutMs is 0", { timeout: 5000 }, async () => {
    callback("Silent", (_r) => 1);
    const lid = await callbackhttp.Open("Silent", -1, 0, 0, { keepAliveTimeoutMs: 0, headersTimeoutMs: 200 });
    try {
      assert.equal(
        await silentConnectionClosed(callbackhttp.Port(lid), 2000),
        true,
        "with keepAliveTimeoutMs 0 and headersTimeoutMs 200, a silent connection was still open after 2 s",
      );
    } finally {
      await callbackhttp.Close(lid);
    }
  });
});
