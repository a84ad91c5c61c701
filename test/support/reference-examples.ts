/**
 * Test support: every example of the reference page in its TypeScript form,
 * side by side with the page's script text and its "Output after running".
 *
 * The translation follows the contract's table (section 1): `printf("%d\n", x)`
 * becomes `print("%d", x)`, a comparison the script prints as 1/0 is wrapped in
 * `Number(...)`, `str.Len(s)` is `s.length`, and the functions that wait
 * (Open, Close, WaitDrained, WaitRouteDrained) are awaited. `print` stands for
 * printf: it records the line instead of writing to stdout, and refuses a value
 * printf's format would not take (a boolean for %d, a number for %s), so an
 * example whose function returns the wrong type fails rather than prints.
 *
 * The page's examples leave their listener open (the script ends there); here
 * each example returns the id it opened and the runner closes it, so that one
 * example's listener never shows in the next one's OpenCount.
 */
import { asyncmeta, callback, callbackhttp } from "../../src/index.js";

/** printf with one conversion and a trailing newline: "%d" takes an integer, "%s" a string. */
export type Print = (format: "%d" | "%s", value: unknown) => void;

/** A printf stand-in that collects the printed lines. */
export function printer(): { print: Print; text: () => string } {
  const lines: string[] = [];
  const print: Print = (format, value) => {
    if (format === "%d" && (typeof value !== "number" || !Number.isSafeInteger(value))) {
      throw new TypeError(`printf %d given ${typeof value} ${String(value)}, not an integer`);
    }
    if (format === "%s" && typeof value !== "string") {
      throw new TypeError(`printf %s given ${typeof value} ${String(value)}, not a string`);
    }
    lines.push(String(value));
  };
  return { print, text: () => lines.map((line) => `${line}\n`).join("") };
}

export const GROUPS = [
  "Lifecycle and bind configuration",
  "Listener-level state",
  "Listener-level traffic",
  "Route-level state",
  "Route-level traffic and shutdown",
] as const;

export interface ReferenceExample {
  /** The function's reference name; the page's two other examples have descriptive names. */
  name: string;
  /** The page's group; undefined for the examples outside the function reference. */
  group: (typeof GROUPS)[number] | undefined;
  /** Whether the page has this as a function section with "Output after running" (checked against the page). */
  onPage: boolean;
  /** The example in script form, as the page shows it. */
  script: string;
  /** What it prints, exactly, with a newline after each line (the page wraps Info's one line in two). */
  output: string;
  /**
   * Run the TypeScript form. Returns the id of the listener it opened, if any.
   * `serve`, when given, runs while the listener is open (the minimal server's "the server runs").
   */
  run(print: Print, serve?: (lid: number) => Promise<void>): Promise<number | undefined>;
}

/** `callback i32 OnRequest(ref blob $X) { return(1); }`: the callback every example opens with. */
export function declareOnRequest(): void {
  callback("OnRequest", (_r) => 1);
}

/** The many examples of the form: open a listener, print one query about it. */
function oneQuery(
  name: string,
  group: ReferenceExample["group"],
  format: "%d" | "%s",
  output: string,
  query: (lid: number) => unknown,
  bindLocalOnly = false,
): ReferenceExample {
  const open = bindLocalOnly
    ? `$lid = callbackhttp.Open("OnRequest", -1, 0,\ncallbackhttp.BindLocalOnly());`
    : `$lid = callbackhttp.Open("OnRequest", -1, 0);`;
  return {
    name,
    group,
    onPage: true,
    script: `i64 $lid;\n${open}\nprintf("${format}\\n", callbackhttp.${name}($lid));`,
    output,
    async run(print) {
      const lid = bindLocalOnly
        ? await callbackhttp.Open("OnRequest", -1, 0, callbackhttp.BindLocalOnly())
        : await callbackhttp.Open("OnRequest", -1, 0);
      print(format, query(lid));
      return lid;
    },
  };
}

export const REFERENCE_EXAMPLES: readonly ReferenceExample[] = [
  // ---- Lifecycle and bind configuration ----
  {
    name: "Capabilities",
    group: "Lifecycle and bind configuration",
    onPage: true,
    script:
      'printf("%d\\n", callbackhttp.Capabilities());\nprintf("%d\\n", (callbackhttp.Capabilities() ==\nasyncmeta.ProfileRouteControl()));',
    output: "2442\n1\n",
    async run(print) {
      print("%d", callbackhttp.Capabilities());
      print("%d", Number(callbackhttp.Capabilities() === asyncmeta.ProfileRouteControl()));
      return undefined;
    },
  },
  {
    name: "BindLocalOnly",
    group: "Lifecycle and bind configuration",
    onPage: true,
    script: 'printf("%d\\n", callbackhttp.BindLocalOnly());',
    output: "0\n",
    async run(print) {
      print("%d", callbackhttp.BindLocalOnly());
      return undefined;
    },
  },
  {
    name: "BindAny",
    group: "Lifecycle and bind configuration",
    onPage: true,
    script: 'printf("%d\\n", callbackhttp.BindAny());',
    output: "1\n",
    async run(print) {
      print("%d", callbackhttp.BindAny());
      return undefined;
    },
  },
  {
    name: "Open",
    group: "Lifecycle and bind configuration",
    onPage: true,
    script:
      'callback i32 OnRequest(ref blob $X) { return(1); }\ni64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0,\ncallbackhttp.BindLocalOnly());\nprintf("%d\\n", ($lid > 0));',
    output: "1\n",
    async run(print) {
      callback("OnRequest", (_r) => 1);
      const lid = await callbackhttp.Open("OnRequest", -1, 0, callbackhttp.BindLocalOnly());
      print("%d", Number(lid > 0));
      return lid;
    },
  },
  {
    name: "Close",
    group: "Lifecycle and bind configuration",
    onPage: true,
    script: 'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", callbackhttp.Close($lid));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", await callbackhttp.Close(lid));
      return lid;
    },
  },

  // ---- Listener-level state ----
  {
    name: "Port",
    group: "Listener-level state",
    onPage: true,
    script: 'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", (callbackhttp.Port($lid) > 0));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", Number(callbackhttp.Port(lid) > 0));
      return lid;
    },
  },
  oneQuery("BindMode", "Listener-level state", "%d", "0\n", (lid) => callbackhttp.BindMode(lid), true),
  oneQuery("BindModeText", "Listener-level state", "%s", "local\n", (lid) => callbackhttp.BindModeText(lid), true),
  oneQuery("State", "Listener-level state", "%d", "1\n", (lid) => callbackhttp.State(lid)),
  oneQuery("StateText", "Listener-level state", "%s", "open\n", (lid) => callbackhttp.StateText(lid)),
  {
    name: "OpenCount",
    group: "Listener-level state",
    onPage: true,
    script:
      'printf("%d\\n", callbackhttp.OpenCount());\ni64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", callbackhttp.OpenCount());\ncallbackhttp.Close($lid);\nprintf("%d\\n", callbackhttp.OpenCount());',
    output: "0\n1\n0\n",
    async run(print) {
      print("%d", callbackhttp.OpenCount());
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", callbackhttp.OpenCount());
      await callbackhttp.Close(lid);
      print("%d", callbackhttp.OpenCount());
      return lid;
    },
  },

  // ---- Listener-level traffic ----
  oneQuery("Active", "Listener-level traffic", "%d", "0\n", (lid) => callbackhttp.Active(lid)),
  oneQuery("Pending", "Listener-level traffic", "%d", "0\n", (lid) => callbackhttp.Pending(lid)),
  oneQuery("Queued", "Listener-level traffic", "%d", "0\n", (lid) => callbackhttp.Queued(lid)),
  oneQuery("Running", "Listener-level traffic", "%d", "0\n", (lid) => callbackhttp.Running(lid)),
  oneQuery("Drained", "Listener-level traffic", "%d", "1\n", (lid) => callbackhttp.Drained(lid)),
  {
    name: "WaitDrained",
    group: "Listener-level traffic",
    onPage: true,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", callbackhttp.WaitDrained($lid, 50));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", await callbackhttp.WaitDrained(lid, 50));
      return lid;
    },
  },
  // Printed on one line; `<auto>` stands for the bound port and `id=1` holds for
  // the first Open of a process (see reference-info-example.test.ts).
  oneQuery(
    "Info",
    "Listener-level traffic",
    "%s",
    "id=1 state=open callback=OnRequest timeout=-1 port=<auto> bind=local bindCode=0 active=0\n",
    (lid) => callbackhttp.Info(lid),
  ),

  // ---- Route-level state ----
  oneQuery("RouteState", "Route-level state", "%d", "1\n", (lid) => callbackhttp.RouteState(lid)),
  oneQuery("RouteStateText", "Route-level state", "%s", "open\n", (lid) => callbackhttp.RouteStateText(lid)),
  oneQuery("RouteCallback", "Route-level state", "%s", "OnRequest\n", (lid) => callbackhttp.RouteCallback(lid)),
  oneQuery("RouteTimeout", "Route-level state", "%d", "-1\n", (lid) => callbackhttp.RouteTimeout(lid)),
  oneQuery("RouteKnown", "Route-level state", "%d", "1\n", (lid) => callbackhttp.RouteKnown(lid)),
  {
    name: "RouteMeta",
    group: "Route-level state",
    onPage: true,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", callbackhttp.RouteMeta($lid,\nasyncmeta.RouteMetaState()));\nprintf("%d\\n", callbackhttp.RouteMeta($lid,\nasyncmeta.RouteMetaDrained()));',
    output: "1\n1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", callbackhttp.RouteMeta(lid, asyncmeta.RouteMetaState()));
      print("%d", callbackhttp.RouteMeta(lid, asyncmeta.RouteMetaDrained()));
      return lid;
    },
  },
  {
    name: "RouteInfo",
    group: "Route-level state",
    onPage: true,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", (str.Len(callbackhttp.RouteInfo($lid)) > 0));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", Number(callbackhttp.RouteInfo(lid).length > 0));
      return lid;
    },
  },

  // ---- Route-level traffic and shutdown ----
  oneQuery("RoutePending", "Route-level traffic and shutdown", "%d", "0\n", (lid) => callbackhttp.RoutePending(lid)),
  oneQuery("RouteQueued", "Route-level traffic and shutdown", "%d", "0\n", (lid) => callbackhttp.RouteQueued(lid)),
  oneQuery("RouteRunning", "Route-level traffic and shutdown", "%d", "0\n", (lid) => callbackhttp.RouteRunning(lid)),
  oneQuery("RouteDrained", "Route-level traffic and shutdown", "%d", "1\n", (lid) => callbackhttp.RouteDrained(lid)),
  {
    name: "WaitRouteDrained",
    group: "Route-level traffic and shutdown",
    onPage: true,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", callbackhttp.WaitRouteDrained($lid, 50));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", await callbackhttp.WaitRouteDrained(lid, 50));
      return lid;
    },
  },
  {
    name: "RouteCloseAccepted",
    group: "Route-level traffic and shutdown",
    onPage: true,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\ncallbackhttp.RouteClose($lid);\nprintf("%d\\n", callbackhttp.RouteCloseAccepted($lid));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      callbackhttp.RouteClose(lid);
      print("%d", callbackhttp.RouteCloseAccepted(lid));
      return lid;
    },
  },
  oneQuery("RouteClosedQueued", "Route-level traffic and shutdown", "%d", "0\n", (lid) =>
    callbackhttp.RouteClosedQueued(lid),
  ),
  {
    name: "RouteCloseInfo",
    group: "Route-level traffic and shutdown",
    onPage: true,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", (str.Len(callbackhttp.RouteCloseInfo($lid)) >\n0));',
    output: "1\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", Number(callbackhttp.RouteCloseInfo(lid).length > 0));
      return lid;
    },
  },
  oneQuery("RouteClose", "Route-level traffic and shutdown", "%d", "1\n", (lid) => callbackhttp.RouteClose(lid)),

  // ---- The page's other examples ----
  {
    // The page binds port 8080; here port 0, so that the test cannot collide with
    // whatever else holds 8080 on the machine. main() prints nothing and returns 0.
    name: "typical flow — minimal HTTP server",
    group: undefined,
    onPage: false,
    script:
      'callback i32 OnRequest(ref blob $Request)\n{\n// The callback receives the RAW HTTP request as a blob.\n// Modify the blob with the response, or return a new blob.\nreturn(1);\n}\ni32 main()\n{\ni64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 8080,\ncallbackhttp.BindLocalOnly());\n// ... the server runs on the accept thread ...\ncallbackhttp.Close($lid);\nreturn(0);\n}',
    output: "",
    async run(_print, serve) {
      callback("OnRequest", (_request) => 1);
      let opened: number | undefined;
      async function main(): Promise<number> {
        const lid = await callbackhttp.Open("OnRequest", -1, 0, callbackhttp.BindLocalOnly());
        opened = lid;
        // ... the server runs ...
        await serve?.(lid);
        await callbackhttp.Close(lid);
        return 0;
      }
      if ((await main()) !== 0) throw new Error("main() did not return 0");
      return opened;
    },
  },
  {
    // "Two-step shutdown rule: if you first call RouteClose successfully (1), then
    // Close, Close returns 0": the page states it in prose; this is its script.
    name: "two-step shutdown rule",
    group: undefined,
    onPage: false,
    script:
      'i64 $lid;\n$lid = callbackhttp.Open("OnRequest", -1, 0);\nprintf("%d\\n", callbackhttp.RouteClose($lid));\nprintf("%d\\n", callbackhttp.Close($lid));',
    output: "1\n0\n",
    async run(print) {
      const lid = await callbackhttp.Open("OnRequest", -1, 0);
      print("%d", callbackhttp.RouteClose(lid));
      print("%d", await callbackhttp.Close(lid));
      return lid;
    },
  },
];

/** The example of `name`; throws when there is none. */
export function exampleOf(name: string): ReferenceExample {
  const found = REFERENCE_EXAMPLES.find((ex) => ex.name === name);
  if (!found) throw new Error(`no reference example named ${name}`);
  return found;
}

/**
 * Run `example` and return what it printed and the listener it opened, then
 * close that listener (the page's scripts end with it open; Close on a listener
 * the example already closed answers 0 and changes nothing).
 */
export async function runExample(
  example: ReferenceExample,
  serve?: (lid: number) => Promise<void>,
): Promise<{ printed: string; lid: number | undefined }> {
  const { print, text } = printer();
  const lid = await example.run(print, serve);
  const printed = text();
  if (lid !== undefined) await callbackhttp.Close(lid);
  return { printed, lid };
}
