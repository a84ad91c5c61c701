#!/usr/bin/env node
/**
 * The `callbackhttp` command: starts the demo app, or serves a callback
 * exported by a module of the user's, on 127.0.0.1 by default. Built only on
 * the public API. SIGINT/SIGTERM run the two-step shutdown (RouteClose,
 * WaitRouteDrained with a deadline, Close); a second signal skips the rest of
 * the drain wait and closes at once (Close still gives running callbacks up
 * to its grace time).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isCallbackName } from "./callback-name.js";
import { callback } from "./callback-registry.js";
import type { RequestCallback } from "./callback-runner.js";
import { demoApp } from "./demo-app.js";
import { CallbackHttpError } from "./errors.js";
import { callbackhttp } from "./facade.js";
import { type ListenerLimits, type ListenerOptionsInput, resolveLimits } from "./options.js";
import { checkRange, checkTimeoutRange } from "./validate.js";

const HELP = `Usage:
  callbackhttp demo  [options]                          start the demo app
  callbackhttp serve --module FILE --callback NAME [options]
                                                        serve the callback NAME exported by FILE

Options:
  --port N                 TCP port; 0 lets the system pick (default 8080 for demo, 0 for serve)
  --bind local|any         127.0.0.1 only, or every interface (default local)
  --timeout MS             the callback's run-time limit; -1 for none (default -1)
  --workers N              run the callback in N worker threads (serve only; default 0)
  --drain-timeout MS       how long a shutdown waits for in-flight requests before it forces the close (default 10000)
  --tls-cert FILE --tls-key FILE
                           speak HTTPS with this PEM certificate (chain) and private key
  --help, --version

Limits (the listener options of the same name, see docs/options.md; a value it refuses is a usage error):
  --max-header-bytes N     request line and header fields (default 16384; over it: 431)
  --max-body-bytes N       request body (default 1048576; over it: 413)
  --headers-timeout MS     first byte to end of head (default 60000, or --request-timeout if lower; past it: 408)
  --request-timeout MS     first byte to end of body (default 300000; past it: 408; 0 disables)
  --keep-alive-timeout MS  idle kept-alive connection lifetime (default 5000)
  --send-timeout MS        a client that reads none of its answers for this long is cut off (default 60000)
  --close-timeout MS       how long Close waits for running callbacks (default 5000)
  --max-connections N      open connections at once (default 0: no limit)
  --max-requests-per-connection N
                           requests on one connection (default 0: no limit)
  --concurrency N          callbacks running at once; more wait, queued (default 0: no limit; --workers with workers)
  --worker-start-timeout MS
                           how long a worker may take to load the module (default 30000; with --workers)

On start it prints one line, "listening http://HOST:PORT" (https with --tls-cert), with the bound port.
SIGINT/SIGTERM drain and close; a second signal stops waiting for the drain.
Exit codes: 0 after a clean shutdown, 1 on a runtime error or a forced close,
2 on a usage error (a malformed command line, or a value the listener refuses).
`;

function usage(message: string): never {
  process.stderr.write(`callbackhttp: ${message}\n\n${HELP}`);
  process.exit(2);
}

/** Codes of the values Open refuses as given: on the command line, usage errors. */
const REFUSED_VALUE = new Set(["ERR_ARG_TYPE", "ERR_PORT_RANGE", "ERR_TIMEOUT_RANGE", "ERR_BIND_MODE"]);

/** The flags that set a listener option, an integer each, passed to Open for the listener to check. */
const LIMIT_FLAGS = {
  "max-header-bytes": "maxHeaderBytes",
  "max-body-bytes": "maxBodyBytes",
  "headers-timeout": "headersTimeoutMs",
  "request-timeout": "requestTimeoutMs",
  "keep-alive-timeout": "keepAliveTimeoutMs",
  "send-timeout": "sendTimeoutMs",
  "close-timeout": "closeTimeoutMs",
  "max-connections": "maxConnections",
  "max-requests-per-connection": "maxRequestsPerConnection",
  concurrency: "concurrency",
  "worker-start-timeout": "workerStartTimeoutMs",
} as const satisfies Record<string, keyof ListenerLimits>;

type LimitFlag = keyof typeof LIMIT_FLAGS;
const LIMIT_FLAG_NAMES = Object.keys(LIMIT_FLAGS) as LimitFlag[];

/** Options that take a value: `--timeout -1` passes -1 as the value (parseArgs alone reads it as an option). */
const VALUE_OPTIONS = new Set(
  ["port", "timeout", "workers", "drain-timeout", ...LIMIT_FLAG_NAMES].map((name) => `--${name}`),
);

function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (VALUE_OPTIONS.has(argv[i]!) && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    usage(`--${name} needs an integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** The flag that sets each listener option, to name in messages the flag a user typed rather than the option. */
const FLAG_OF_OPTION = new Map<string, string>([
  ...Object.entries(LIMIT_FLAGS).map(([flag, option]): [string, string] => [option, flag]),
  ["workers", "workers"],
  ["timeoutMs", "timeout"],
  ["port", "port"],
]);

/** A refused value's message in the command's terms: `option maxBodyBytes` and `maxBodyBytes` become `--max-body-bytes`. */
function inFlags(message: string): string {
  return message.replace(/(?:option )?\b([a-zA-Z]+)\b/g, (whole, option: string) => {
    const flag = FLAG_OF_OPTION.get(option);
    return flag === undefined ? whole : `--${flag}`;
  });
}

/** A value the listener refuses is a usage error, in the command's terms; anything else is thrown on. */
function refused(err: unknown, options: ListenerOptionsInput): never {
  if (err instanceof CallbackHttpError && REFUSED_VALUE.has(err.code)) {
    const files = options.tls && /option tls/.test(err.message) ? ` (${tlsFiles})` : "";
    usage(`${err.code}: ${inFlags(err.message)}${files}`);
  }
  throw err;
}

/** The TLS files as given, for messages about them. */
let tlsFiles = "";

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  const command = positionals[0] ?? "demo";
  if (positionals.length > 1 || (command !== "demo" && command !== "serve"))
    usage(`unknown command ${positionals.join(" ")}`);
  const bind = values.bind ?? "local";
  if (bind !== "local" && bind !== "any") usage(`--bind is local or any, got ${JSON.stringify(bind)}`);
  const port = integer("port", values.port, command === "demo" ? 8080 : 0);
  const timeoutMs = integer("timeout", values.timeout, -1);
  const drainMs = integer("drain-timeout", values["drain-timeout"], 10000);
  try {
    checkTimeoutRange("callbackhttp.WaitRouteDrained", "timeoutMs", drainMs);
  } catch (err) {
    usage(`--drain-timeout: ${(err as Error).message}`);
  }
  const options: ListenerOptionsInput = {};
  for (const flag of LIMIT_FLAG_NAMES) {
    const value = values[flag];
    if (value !== undefined) options[LIMIT_FLAGS[flag]] = integer(flag, value, 0);
  }

  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) usage("--tls-cert and --tls-key go together");
  if (certFile !== undefined && keyFile !== undefined) {
    tlsFiles = `--tls-cert ${certFile}, --tls-key ${keyFile}`;
    try {
      options.tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    } catch (err) {
      usage(`cannot read the TLS files: ${(err as Error).message}`);
    }
  }

  let name: string;
  if (command === "demo") {
    if (values.module || values.callback || values.workers || values["worker-start-timeout"]) {
      usage("demo takes no --module, --callback, --workers or --worker-start-timeout");
    }
    name = "DemoApp";
    callback(name, demoApp);
  } else {
    if (!values.module || !values.callback) usage("serve needs --module FILE and --callback NAME");
    name = values.callback;
    // A name no listener takes (contract section 2) is refused as typed, whichever thread would run it.
    if (!isCallbackName(name))
      usage(`--callback must be a name without whitespace or "=", got ${JSON.stringify(name)}`);
    const workers = integer("workers", values.workers, 0);
    if (workers < 0) usage(`--workers is 0 (the main thread) or more, got ${workers}`);
    if (workers > 0) {
      options.workers = workers;
      options.module = resolve(values.module);
    } else {
      // The values Open would refuse are usage errors before the module runs any code of its own.
      try {
        checkTimeoutRange("callbackhttp.Open", "timeoutMs", timeoutMs);
        checkRange("callbackhttp.Open", "port", port, 0, 65535, "ERR_PORT_RANGE");
        resolveLimits(options, "callbackhttp.Open");
      } catch (err) {
        refused(err, options);
      }
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(resolve(values.module)).href)) as Record<string, unknown>;
      } catch (err) {
        // The stack of what the module threw says where in it; Node keeps a syntax error's line to itself.
        const e = err as { stack?: unknown };
        process.stderr.write(
          `callbackhttp: cannot load --module ${values.module}: ${typeof e?.stack === "string" ? e.stack : String(err)}\n`,
        );
        process.exit(1);
      }
      const fn = mod[name];
      if (typeof fn !== "function") {
        process.stderr.write(`callbackhttp: ${values.module} exports no function named ${name}\n`);
        process.exit(1);
      }
      callback(name, fn as RequestCallback);
    }
  }

  let lid: number;
  try {
    lid = await callbackhttp.Open(name, timeoutMs, port, bind === "any" ? 1 : 0, options);
  } catch (err) {
    refused(err, options);
  }
  const host = bind === "any" ? "0.0.0.0" : "127.0.0.1";
  process.stdout.write(`listening ${options.tls ? "https" : "http"}://${host}:${callbackhttp.Port(lid)}\n`);

  let signals = 0;
  const shutdown = async (signal: string): Promise<void> => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`callbackhttp: ${signal} again, forcing the close\n`);
      await callbackhttp.Close(lid);
      exitSoon(1);
      return;
    }
    process.stderr.write(`callbackhttp: ${signal}, draining (up to ${drainMs} ms)\n`);
    callbackhttp.RouteClose(lid);
    const drained = await callbackhttp.WaitRouteDrained(lid, drainMs);
    if (!drained) process.stderr.write("callbackhttp: drain deadline passed, forcing the close\n");
    await callbackhttp.Close(lid);
    if (signals === 1) exitSoon(drained ? 0 : 1);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    shutdown(signal).catch((err: unknown) => {
      process.stderr.write(`callbackhttp: shutdown failed: ${String(err)}\n`);
      process.exit(1);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/**
 * The listener is closed: end with `code` once the output is out (workers' console output reaches stdout
 * through the main thread, a moment later), and at the latest 200 ms from now: a callback that Close
 * abandoned may keep a timer running, which would keep the event loop, and the process, alive.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}

const LIMIT_OPTIONS = Object.fromEntries(LIMIT_FLAG_NAMES.map((flag) => [flag, { type: "string" }])) as Record<
  LimitFlag,
  { type: "string" }
>;

function parse(argv: string[]) {
  return parseArgs({
    args: joinNegativeValues(argv),
    allowPositionals: true,
    options: {
      port: { type: "string" },
      bind: { type: "string" },
      timeout: { type: "string" },
      workers: { type: "string" },
      module: { type: "string" },
      callback: { type: "string" },
      "drain-timeout": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      ...LIMIT_OPTIONS,
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof CallbackHttpError ? `${err.code}: ${err.message}` : String(err);
  process.stderr.write(`callbackhttp: ${message}\n`);
  process.exit(1);
});
