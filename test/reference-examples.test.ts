/**
 * Conformance: every example of the reference page, in its TypeScript form
 * (test/support/reference-examples.ts), prints exactly the page's "Output after
 * running". The examples run one after another in this process, each closing
 * the listener it opened, so OpenCount's example starts from 0. Info's `id=1`
 * holds only for a process's first Open: reference-info-example.test.ts checks
 * it exactly; here its id and port are those of the listener it opened.
 */
import assert from "node:assert/strict";
import { afterEach, before, describe, test } from "node:test";
import { callbackhttp } from "../src/index.js";
import { sendRaw } from "./support/raw-client.js";
import {
  declareOnRequest,
  exampleOf,
  GROUPS,
  printer,
  REFERENCE_EXAMPLES,
  runExample,
} from "./support/reference-examples.js";
import { pageExamples, REFERENCE_PATH, readReferencePage, unwrapped } from "./support/reference-page.js";

const LIMIT = { timeout: 5000 };

before(() => declareOnRequest());

// An example that leaves a listener open would change the next one's OpenCount.
afterEach(() => assert.equal(callbackhttp.OpenCount(), 0, "an example left a listener open"));

for (const group of GROUPS) {
  describe(group, () => {
    for (const example of REFERENCE_EXAMPLES.filter((ex) => ex.group === group)) {
      test(`${example.name} prints ${JSON.stringify(example.output)}`, LIMIT, async () => {
        const { printed, lid } = await runExample(example);
        let expected = example.output;
        if (example.name === "Info") {
          assert.ok(lid !== undefined);
          // Not this process's first Open: the id is the one it got; <auto> is the bound port.
          expected = expected.replace("id=1 ", `id=${lid} `).replace("<auto>", String(callbackhttp.Port(lid)));
        }
        assert.equal(printed, expected);
        if (lid !== undefined) assert.equal(callbackhttp.State(lid), 0, "the listener is closed afterwards");
      });
    }
  });
}

describe("the page's other examples", () => {
  test(
    "typical flow — minimal HTTP server: main() prints nothing, returns 0, and serves while open",
    LIMIT,
    async () => {
      const request = "GET /hello HTTP/1.1\r\nHost: example\r\n\r\n";
      let served: { data: Buffer; closed: boolean } | undefined;
      const { printed, lid } = await runExample(exampleOf("typical flow — minimal HTTP server"), async (id) => {
        assert.equal(callbackhttp.State(id), 1);
        served = await sendRaw(callbackhttp.Port(id), [request], { timeoutMs: 3000 });
      });
      assert.equal(printed, "");
      assert.ok(lid !== undefined && lid > 0);
      // return(1) with the blob untouched sends the request bytes back unchanged: nothing is injected.
      assert.ok(served);
      assert.equal(served.data.toString("latin1"), request);
      // Those bytes are no self-delimiting response, so the connection ends after them.
      assert.equal(served.closed, true);
    },
  );

  test("two-step shutdown rule: RouteClose prints 1, then Close prints 0", LIMIT, async () => {
    const example = exampleOf("two-step shutdown rule");
    const { printed, lid } = await runExample(example);
    assert.equal(printed, "1\n0\n");
    assert.equal(printed, example.output);
    assert.ok(lid !== undefined);
    assert.equal(callbackhttp.StateText(lid), "closed");
  });
});

describe("the examples are the page's", () => {
  const page = readReferencePage();
  const skip = page === undefined ? `the reference page is not at ${REFERENCE_PATH}` : false;

  test("every function of callbackhttp has exactly one example here", () => {
    const names = REFERENCE_EXAMPLES.filter((ex) => ex.onPage).map((ex) => ex.name);
    assert.equal(names.length, 34);
    assert.deepEqual([...names].sort(), Object.keys(callbackhttp).sort());
  });

  test("the page has 34 function sections, in this order", { skip }, () => {
    const sections = pageExamples(page!);
    assert.deepEqual(
      [...sections.keys()],
      REFERENCE_EXAMPLES.filter((ex) => ex.onPage).map((ex) => ex.name),
    );
  });

  test("each example's script and output are the page's text (up to line wrapping)", { skip }, () => {
    const sections = pageExamples(page!);
    for (const example of REFERENCE_EXAMPLES.filter((ex) => ex.onPage)) {
      const section = sections.get(example.name);
      assert.ok(section, `no section for ${example.name}`);
      assert.equal(unwrapped(example.script), unwrapped(section.script), `${example.name}: script`);
      assert.equal(unwrapped(example.output), unwrapped(section.output), `${example.name}: output`);
    }
  });

  test("the typical flow's script is the page's", { skip }, () => {
    const script = unwrapped(exampleOf("typical flow — minimal HTTP server").script);
    assert.ok(unwrapped(page!).includes(script), script);
  });

  test("print refuses what printf's format would not take", () => {
    const { print } = printer();
    assert.throws(() => print("%d", true), TypeError);
    assert.throws(() => print("%d", 1.5), TypeError);
    assert.throws(() => print("%s", 1), TypeError);
  });
});
