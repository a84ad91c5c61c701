/**
 * The request lifecycle under real traffic on 127.0.0.1: the counters of
 * contract section 4 while requests are half-sent, queued, running and
 * answered, and the two-step shutdown (RouteClose, WaitRouteDrained, Close).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildResponse, callback, callbackhttp, HttpListener, textResponse } from "../src/index.js";
import { bodiesAndClose, sendRaw, statuses } from "./support/raw-client.js";
import { collect, open, until } from "./support/socket-helpers.js";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const GET = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
/** Connections are net.Sockets, not raw TCP handles (test/net-socket-fallback.test.ts reruns this file so). */
const STREAM_READS = process.env.CALLBACKHTTP_STREAM_READS === "1";

/**
 * Turns of the event loop, not time (setTimeout may be mocked): wait until `done` holds or `turns`
 * have passed. The listener's close of a connection needs a few turns after the event that causes it.
 */
async function turnsUntil(done: () => boolean, turns = 100_000): Promise<void> {
  for (let turn = 0; turn < turns && !done(); turn++) await new Promise((r) => setImmediate(r));
}

/** A callback whose answers wait until the test releases them, one by one. */
function heldCallback(name: string, answer = OK): { release: () => void; started: () => number } {
  const waiting: Array<() => void> = [];
  let started = 0;
  callback(name, () => {
    started++;
    return new Promise<string>((resolve) => waiting.push(() => resolve(answer)));
  });
  return {
    release: () => waiting.shift()?.(),
    started: () => started,
  };
}

describe("counters under traffic", () => {
  test("a held async callback shows Running 1, Active 1 and Drained 0 until it is released", async () => {
    const held = heldCallback("HeldRunning");
    const lid = await callbackhttp.Open("HeldRunning", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    const reply = collect(socket);
    socket.write(GET);
    await until(() => held.started() === 1, "the callback to start");
    assert.equal(callbackhttp.Running(lid), 1);
    assert.equal(callbackhttp.RouteRunning(lid), 1);
    assert.equal(callbackhttp.Active(lid), 1);
    assert.equal(callbackhttp.Drained(lid), 0);
    assert.equal(callbackhttp.RouteDrained(lid), 0);
    assert.equal(callbackhttp.Pending(lid), 0);
    assert.equal(callbackhttp.Queued(lid), 0);
    assert.equal(await callbackhttp.WaitDrained(lid, 30), 0);
    const drained = callbackhttp.WaitRouteDrained(lid, 3000);
    held.release();
    assert.equal(await drained, 1);
    assert.equal(callbackhttp.Running(lid), 0);
    assert.equal(callbackhttp.Drained(lid), 1);
    await until(() => reply.text().endsWith("ok"), "the response");
    assert.equal(reply.text(), OK);
    socket.destroy();
    assert.equal(await callbackhttp.Close(lid), 1);
  });

  test("a half-sent request shows Pending 1 and Active 1; the rest of it completes it", async () => {
    let seen = "";
    callback("PendingSeen", (r) => {
      seen = Buffer.from(r.value as Uint8Array).toString("latin1");
      return OK;
    });
    const lid = await callbackhttp.Open("PendingSeen", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    const reply = collect(socket);
    socket.write("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab");
    await until(() => callbackhttp.Pending(lid) === 1, "Pending 1");
    assert.equal(callbackhttp.RoutePending(lid), 1);
    assert.equal(callbackhttp.Active(lid), 1);
    assert.equal(callbackhttp.Drained(lid), 0);
    socket.write("cde");
    await until(() => reply.text() === OK, "the response");
    assert.equal(seen, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde");
    assert.equal(callbackhttp.Pending(lid), 0);
    await until(() => callbackhttp.Drained(lid) === 1, "drained");
    socket.destroy();
    await callbackhttp.Close(lid);
  });

  test("a pipelined second request shows Queued 1 behind the running first, and answers come in order", async () => {
    const held = heldCallback("HeldQueued");
    const lid = await callbackhttp.Open("HeldQueued", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    const reply = collect(socket);
    socket.write(GET + GET);
    await until(() => held.started() === 1, "the first callback");
    assert.equal(callbackhttp.Running(lid), 1);
    assert.equal(callbackhttp.Queued(lid), 1);
    assert.equal(callbackhttp.RouteQueued(lid), 1);
    assert.equal(callbackhttp.Active(lid), 2);
    held.release();
    await until(() => held.started() === 2, "the second callback");
    assert.equal(callbackhttp.Queued(lid), 0);
    assert.equal(callbackhttp.Running(lid), 1);
    held.release();
    await until(() => reply.text() === OK + OK, "both responses");
    await until(() => callbackhttp.Drained(lid) === 1, "drained");
    socket.destroy();
    await callbackhttp.Close(lid);
  });

  test("a request whose connection is lost stays running and active until its callback settles", async () => {
    const held = heldCallback("HeldLost");
    const lid = await callbackhttp.Open("HeldLost", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    socket.write(GET + GET);
    await until(() => held.started() === 1 && callbackhttp.Queued(lid) === 1, "one running, one queued");
    socket.resetAndDestroy(); // a reset: the connection is lost, not half-closed
    // The queued request is gone with its connection; the running one is not.
    await until(() => callbackhttp.Queued(lid) === 0, "the queued request to go");
    assert.equal(callbackhttp.Running(lid), 1);
    assert.equal(callbackhttp.Active(lid), 1);
    held.release();
    assert.equal(await callbackhttp.WaitDrained(lid, 1000), 1);
    assert.equal(callbackhttp.Running(lid), 0);
    assert.equal(held.started(), 1);
    await callbackhttp.Close(lid);
  });

  test("a client that half-closes after its requests still gets every response, then the close", async () => {
    callback("HalfClose", async () => {
      await new Promise((r) => setTimeout(r, 20));
      return OK;
    });
    const lid = await callbackhttp.Open("HalfClose", -1, 0);
    const { data, closed } = await sendRaw(callbackhttp.Port(lid), [GET + GET], { end: true });
    assert.equal(data.toString("latin1"), OK + OK);
    assert.ok(closed);
    await callbackhttp.Close(lid);
  });

  test("a client that has ended its side is let go once its answer is out, without the 2 s linger", async (t) => {
    // The linger (reading and discarding after the last answer) is for a client that may still be
    // sending; one whose FIN came first has nothing left to send, and its socket must not stay open
    // (a client cycling such connections would otherwise hold thousands of descriptors). With
    // setTimeout mocked the linger's timer never fires: only letting go at once empties the listener.
    const listener = await HttpListener.open({ callback: () => OK, port: 0 });
    t.mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const cases: Array<[string, string, RegExp]> = [
        ["a request, then the FIN", GET, /^HTTP\/1\.1 200 OK\r\n/],
        ["a malformed request, then the FIN", "GET / HTTP/1.1\r\nHost t\r\n\r\n", /^HTTP\/1\.1 400 /],
        ["half a request head, then the FIN", "GET / HTTP/1.1\r\nHo", /^$/],
      ];
      for (const [what, input, answer] of cases) {
        const socket = await open(listener.port);
        const reply = collect(socket);
        socket.end(input);
        await reply.closed;
        assert.match(reply.text(), answer, what);
        await turnsUntil(() => listener.stats().connections === 0);
        assert.equal(listener.stats().connections, 0, `${what}: the listener still holds the connection`);
      }
    } finally {
      t.mock.timers.reset();
      await listener.close();
    }
  });

  test("a request that asks to close, with nothing after it, has its socket closed once the answer is out, without the linger", {
    skip: STREAM_READS && "connections are net.Sockets here, which keep the lingering close",
  }, async (t) => {
    // The client said it sends nothing more and nothing more came: the listener closes at once (the
    // answer, then a FIN), as nginx does, instead of a shutdown and up to 2 s of reading for a client
    // that stays half-open. setTimeout is mocked so that the linger can never end the connection, and
    // the client allows half-open connections, so it never sends its own FIN: only closing at once
    // empties the listener.
    const listener = await HttpListener.open({ callback: () => OK, port: 0 });
    t.mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const cases: Array<[string, string]> = [
        ["HTTP/1.1 with Connection: close", "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"],
        ["HTTP/1.0 without keep-alive", "GET / HTTP/1.0\r\n\r\n"],
      ];
      for (const [what, input] of cases) {
        const socket = await open(listener.port, { allowHalfOpen: true });
        const reply = collect(socket);
        const ended = new Promise<void>((resolve) => socket.once("end", resolve));
        socket.write(input);
        await ended;
        assert.match(reply.text(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/, what);
        await turnsUntil(() => listener.stats().connections === 0);
        assert.equal(listener.stats().connections, 0, `${what}: the listener still holds the connection`);
        socket.destroy();
      }
    } finally {
      t.mock.timers.reset();
      await listener.close();
    }
  });

  test("input after a request that asks to close keeps the linger: the answer arrives whole, and the socket waits for the client", async (t) => {
    // Closing a socket with unread input makes the kernel send a reset, which can destroy the answer
    // before the client reads it: with bytes after the request, the listener shuts down and reads on.
    const listener = await HttpListener.open({ callback: () => OK, port: 0 });
    t.mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const socket = await open(listener.port, { allowHalfOpen: true });
      const reply = collect(socket);
      const ended = new Promise<void>((resolve) => socket.once("end", resolve));
      socket.write(`GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n${GET}`);
      await ended;
      assert.match(reply.text(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
      await turnsUntil(() => listener.stats().connections === 0, 1000);
      assert.equal(listener.stats().connections, 1, "closed with unread input: the linger was skipped");
      socket.end();
      await reply.closed;
      await turnsUntil(() => listener.stats().connections === 0);
      assert.equal(listener.stats().connections, 0, "the client's FIN did not end the linger");
    } finally {
      t.mock.timers.reset();
      await listener.close();
    }
  });

  test("input that comes while the answer to a request that asks to close is pending keeps the linger too", async (t) => {
    let release = (): void => {};
    let running = (): void => {};
    const callbackRan = new Promise<void>((r) => {
      running = r;
    });
    const listener = await HttpListener.open({
      callback: () => {
        running();
        return new Promise<string>((resolve) => {
          release = () => resolve(OK);
        });
      },
      port: 0,
    });
    t.mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const socket = await open(listener.port, { allowHalfOpen: true });
      const reply = collect(socket);
      const ended = new Promise<void>((resolve) => socket.once("end", resolve));
      socket.write("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      await callbackRan;
      // More input while the callback runs: the listener reads it (and discards it) within a few turns.
      socket.write(GET);
      await turnsUntil(() => false, 1000);
      release();
      await ended;
      assert.match(reply.text(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
      await turnsUntil(() => listener.stats().connections === 0, 1000);
      assert.equal(
        listener.stats().connections,
        1,
        "closed with input that came after the request: the linger was skipped",
      );
      socket.end();
      await reply.closed;
      await turnsUntil(() => listener.stats().connections === 0);
      assert.equal(listener.stats().connections, 0);
    } finally {
      t.mock.timers.reset();
      await listener.close();
    }
  });

  test("a response a slow client has not read yet stays active until the socket has written it", async () => {
    const body = Buffer.alloc(32 * 1024 * 1024, 0x61);
    const big = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    callback("Big", () => big);
    const lid = await callbackhttp.Open("Big", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    socket.pause();
    socket.write(GET + GET);
    await until(() => callbackhttp.Running(lid) === 0 && callbackhttp.Queued(lid) === 0, "both callbacks to run");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(callbackhttp.Drained(lid), 0);
    assert.equal(await callbackhttp.WaitDrained(lid, 50), 0);
    let received = 0;
    socket.on("data", (d: Buffer) => {
      received += d.length;
    });
    socket.resume();
    assert.equal(await callbackhttp.WaitDrained(lid, 10000), 1);
    await until(() => received === 2 * big.length, "both responses");
    socket.destroy();
    await callbackhttp.Close(lid);
  });

  test("a client pipelining far ahead of its answers is read no further than 64 requests ahead; none is lost", async (t) => {
    let open_ = false;
    const gate: Array<() => void> = [];
    callback("Flooded", () => (open_ ? OK : new Promise<string>((resolve) => gate.push(() => resolve(OK)))));
    const lid = await callbackhttp.Open("Flooded", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    t.after(async () => {
      socket.destroy();
      for (const release of gate) release();
      await callbackhttp.Close(lid);
    });
    let answers = 0;
    let text = "";
    socket.on("data", (d: Buffer) => {
      text = (text + d.toString("latin1")).replace(/HTTP\/1\.1 200 OK\r\nContent-Length: 2\r\n\r\nok/g, () => {
        answers++;
        return "";
      });
    });
    const body = "b".repeat(16 * 1024);
    const post = `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const count = 2000; // 32 MiB of requests: more than the kernel's buffers hold
    for (let i = 0; i < count; i++) socket.write(post);
    await until(() => callbackhttp.Queued(lid) >= 63, "the queue to fill");
    await new Promise((r) => setTimeout(r, 300));
    // Reading stopped: a read's worth of requests past the 64 at most, the rest still with the client.
    const framed = callbackhttp.Queued(lid) + callbackhttp.Running(lid);
    assert.ok(framed < 100, `${framed} requests read while the first one was held`);
    assert.ok(socket.writableLength > (count * post.length) / 2, `${socket.writableLength} bytes left unsent`);
    open_ = true;
    for (const release of gate) release();
    await until(() => answers === count, `all ${count} answers (have ${answers})`, 20_000);
    assert.equal(text, "");
  });

  test("150 requests pipelined in one write behind a held one are answered once each, in order", async (t) => {
    // More than 64 wait behind the first at once, so the queue outgrows the point where it is compacted.
    let release: (() => void) | null = null;
    callback("HeldFirst", (ref) => {
      const target = Buffer.from(ref.value as Uint8Array)
        .toString("latin1")
        .split(" ")[1]!;
      const answer = `HTTP/1.1 200 OK\r\nContent-Length: ${target.length}\r\n\r\n${target}`;
      if (target !== "/0") return answer;
      return new Promise<string>((resolve) => {
        release = () => resolve(answer);
      });
    });
    const lid = await callbackhttp.Open("HeldFirst", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    t.after(async () => {
      socket.destroy();
      await callbackhttp.Close(lid);
    });
    const reply = collect(socket);
    const count = 150;
    socket.write(Array.from({ length: count }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join(""));
    await until(() => callbackhttp.Queued(lid) === count - 1, `${count - 1} requests queued`);
    release!();
    await until(() => callbackhttp.Active(lid) === 0, "every request answered");
    const bodies = [...reply.text().matchAll(/\r\n\r\n(\/\d+)/g)].map((m) => m[1]);
    assert.deepEqual(
      bodies,
      Array.from({ length: count }, (_, i) => `/${i}`),
    );
  });

  test("RouteInfo and RouteCloseInfo carry the live counters", async () => {
    const held = heldCallback("HeldInfo");
    const lid = await callbackhttp.Open("HeldInfo", 5000, 0);
    const port = callbackhttp.Port(lid);
    const socket = await open(port);
    socket.write(GET);
    await until(() => held.started() === 1, "the callback");
    assert.equal(
      callbackhttp.RouteInfo(lid),
      `id=${lid} state=open stateCode=1 callback=HeldInfo timeout=5000 port=${port} bind=local bindCode=0 drained=0 pending=0 queued=0 running=1 active=1`,
    );
    assert.equal(
      callbackhttp.Info(lid),
      `id=${lid} state=open callback=HeldInfo timeout=5000 port=${port} bind=local bindCode=0 active=1`,
    );
    assert.equal(callbackhttp.RouteClose(lid), 1);
    assert.equal(
      callbackhttp.RouteCloseInfo(lid),
      `id=${lid} state=closed callback=HeldInfo timeout=5000 port=${port} bind=local drained=0 pending=0 queued=0 running=1 active=1 closeAccepted=1 closedQueued=1`,
    );
    held.release();
    assert.equal(await callbackhttp.WaitRouteDrained(lid, 3000), 1);
    socket.destroy();
    assert.equal(await callbackhttp.Close(lid), 0);
  });
});

describe("two-step shutdown", () => {
  test("RouteClose refuses new connections while the in-flight request still gets its response", async () => {
    const held = heldCallback("HeldShutdown");
    const before = callbackhttp.OpenCount();
    const lid = await callbackhttp.Open("HeldShutdown", -1, 0);
    assert.equal(callbackhttp.OpenCount(), before + 1);
    const port = callbackhttp.Port(lid);
    const socket = await open(port);
    const reply = collect(socket);
    socket.write(GET);
    await until(() => held.started() === 1, "the callback");

    assert.equal(callbackhttp.RouteClose(lid), 1);
    assert.equal(callbackhttp.RouteClose(lid), 0);
    assert.equal(callbackhttp.State(lid), 0);
    assert.equal(callbackhttp.StateText(lid), "closed");
    assert.equal(callbackhttp.RouteKnown(lid), 0);
    assert.equal(callbackhttp.RouteCloseAccepted(lid), 1);
    assert.equal(callbackhttp.RouteClosedQueued(lid), 1);

    await assert.rejects(open(port), { code: "ECONNREFUSED" });
    assert.equal(await callbackhttp.WaitRouteDrained(lid, 30), 0);
    const drained = callbackhttp.WaitRouteDrained(lid, -1);
    held.release();
    assert.equal(await drained, 1);
    await reply.closed; // a busy connection closes once its last response is written
    assert.equal(reply.text(), OK);
    assert.equal(await callbackhttp.Close(lid), 0);
    assert.equal(callbackhttp.OpenCount(), before);
  });

  test("RouteClose behind pipelined requests: a helper says close on the last answer only, and all are answered", async (t) => {
    // Each answer names its request and what willClose said; the first waits for the test.
    let release: () => void = () => {};
    const seen: string[] = [];
    const listener = await HttpListener.open({
      callback: async (ref, ctx) => {
        const path = Buffer.from(ref.value as Uint8Array)
          .toString("latin1")
          .split(" ")[1]!;
        if (path === "/first") await new Promise<void>((resolve) => (release = resolve));
        seen.push(`${path} ${ctx.willClose}`);
        return textResponse(200, path, ctx);
      },
    });
    t.after(() => listener.close());
    const socket = await open(listener.port);
    const reply = collect(socket);
    socket.write(["/first", "/second", "/third"].map((p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`).join(""));
    await until(() => listener.counters.running === 1 && listener.counters.queued === 2, "the first to run");
    listener.routeClose();
    release();
    assert.equal(await listener.waitDrained(5000), true);
    await reply.closed;
    // Had the first answer said close, the connection would have ended there, the two behind it unanswered.
    assert.deepEqual(bodiesAndClose(reply.text()), [
      ["/first", false],
      ["/second", false],
      ["/third", true],
    ]);
    assert.deepEqual(seen, ["/first false", "/second false", "/third true"]);
  });

  test("RouteClose while a large response is still being written closes the connection once it is out", async (t) => {
    // 8 MiB to a client that does not read: the socket still holds most of it when RouteClose comes.
    const big = buildResponse({ body: Buffer.alloc(8 * 1024 * 1024, 0x61) });
    const listener = await HttpListener.open({ callback: () => big, keepAliveTimeoutMs: 60_000 });
    t.after(() => listener.close());
    const socket = await open(listener.port);
    t.after(() => socket.destroy());
    socket.pause();
    let received = 0;
    let ended = false;
    socket.on("data", (d: Buffer) => {
      received += d.length;
    });
    socket.on("end", () => {
      ended = true;
    });
    socket.write(GET);
    await until(() => listener.counters.running === 0 && listener.counters.active === 1, "the response to be writing");
    listener.routeClose();
    socket.resume();
    await until(() => listener.counters.active === 0, "the response to be written");
    // Not parked as an idle kept-alive connection for keepAliveTimeoutMs (60 s): closed now.
    await until(() => ended, "the listener to close the connection", 5000);
    assert.equal(received, big.length);
  });

  test("a new request on a kept-alive connection after RouteClose is answered 503 and closed", async () => {
    const held = heldCallback("HeldLate");
    const lid = await callbackhttp.Open("HeldLate", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    const reply = collect(socket);
    socket.write(GET);
    await until(() => held.started() === 1, "the callback");
    callbackhttp.RouteClose(lid);
    socket.write(GET); // begun after RouteClose: not served
    await until(() => callbackhttp.Active(lid) === 2, "the late request to count");
    held.release();
    await reply.closed;
    assert.deepEqual(statuses(Buffer.from(reply.text(), "latin1")), [200, 503]);
    assert.equal(held.started(), 1);
    assert.equal(await callbackhttp.WaitRouteDrained(lid, 1000), 1);
    await callbackhttp.Close(lid);
  });

  test("RouteClose closes idle kept-alive connections at once", async (t) => {
    callback("Quick", () => OK);
    // A keep-alive time-out of a minute: only RouteClose can close the idle connection within the test.
    const lid = await callbackhttp.Open("Quick", -1, 0, 0, { keepAliveTimeoutMs: 60000 });
    t.after(() => callbackhttp.Close(lid));
    const socket = await open(callbackhttp.Port(lid));
    t.after(() => socket.destroy());
    const reply = collect(socket);
    socket.write(GET);
    await until(() => reply.text() === OK, "the response");
    callbackhttp.RouteClose(lid);
    await until(
      () => reply.isClosed(),
      "RouteClose to close the idle connection (its keep-alive time-out is a minute)",
      5000,
    );
    assert.equal(await callbackhttp.WaitRouteDrained(lid, 100), 1);
    assert.equal(await callbackhttp.Close(lid), 0);
  });

  test("Close answers queued requests 503, lets the running one finish, and resets the record", async () => {
    const held = heldCallback("HeldClose");
    const lid = await callbackhttp.Open("HeldClose", -1, 0);
    const port = callbackhttp.Port(lid);
    const socket = await open(port);
    const reply = collect(socket);
    socket.write(GET + GET + GET + GET);
    await until(() => held.started() === 1 && callbackhttp.Queued(lid) === 3, "one running, three queued");
    const closing = callbackhttp.Close(lid);
    setTimeout(() => held.release(), 20);
    assert.equal(await closing, 1);
    await reply.closed;
    // Every queued request gets its 503; only the last says the connection closes.
    assert.deepEqual(statuses(Buffer.from(reply.text(), "latin1")), [200, 503, 503, 503]);
    assert.equal(reply.text().split("Connection: close").length - 1, 1);
    assert.ok(reply.text().endsWith("Connection: close\r\n\r\n503 Service Unavailable\n"));
    assert.equal(held.started(), 1);
    // The closed listener keeps its record: final state, no throw.
    assert.equal(callbackhttp.State(lid), 0);
    assert.equal(callbackhttp.Port(lid), port);
    assert.equal(callbackhttp.Active(lid), 0);
    assert.equal(callbackhttp.Drained(lid), 1);
    assert.equal(await callbackhttp.WaitDrained(lid, 0), 1);
    assert.equal(await callbackhttp.Close(lid), 0);
    assert.equal(callbackhttp.RouteClose(lid), 0);
  });

  test("Close's 503s to pipelined requests: a HEAD gets the head alone, and the connection stays for the next", async () => {
    const held = heldCallback("HeldHead");
    const lid = await callbackhttp.Open("HeldHead", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    const reply = collect(socket);
    socket.write(`${GET}HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${GET}`);
    await until(() => held.started() === 1 && callbackhttp.Queued(lid) === 2, "one running, two queued");
    const closing = callbackhttp.Close(lid);
    setTimeout(() => held.release(), 20);
    assert.equal(await closing, 1);
    await reply.closed;
    const unavailable = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n";
    assert.equal(
      reply.text(),
      `${OK}${unavailable}\r\n${unavailable}Connection: close\r\n\r\n503 Service Unavailable\n`,
    );
  });

  test("Close's 503 to a pipelined HTTP/1.0 request closes the connection: such a client reads it to the close", async () => {
    const held = heldCallback("Held10", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    const lid = await callbackhttp.Open("Held10", -1, 0);
    const socket = await open(callbackhttp.Port(lid));
    const reply = collect(socket);
    const get10 = "GET / HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n";
    socket.write(get10 + get10 + get10);
    await until(() => held.started() === 1 && callbackhttp.Queued(lid) === 2, "one running, two queued");
    const closing = callbackhttp.Close(lid);
    setTimeout(() => held.release(), 20);
    assert.equal(await closing, 1);
    await reply.closed;
    // The 200 kept the connection (it said keep-alive); the first 503 says close and is the last answer.
    assert.deepEqual(statuses(Buffer.from(reply.text(), "latin1")), [200, 503]);
    assert.ok(reply.text().endsWith("Connection: close\r\n\r\n503 Service Unavailable\n"), reply.text());
  });

  test("the running callback's signal is aborted by Close", async () => {
    let aborted: unknown = null;
    callback("Abortable", (_r, ctx) => {
      return new Promise<number>((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          aborted = ctx.signal.reason;
          resolve(0);
        });
      });
    });
    const lid = await callbackhttp.Open("Abortable", -1, 0);
    const reply = sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 3000 });
    await until(() => callbackhttp.Running(lid) === 1, "the callback");
    assert.equal(await callbackhttp.Close(lid), 1);
    assert.ok(aborted instanceof DOMException);
    const { data, closed } = await reply;
    assert.ok(closed);
    assert.deepEqual(statuses(data), [500]);
  });
});

describe("callback results and time limit", () => {
  test("returning 0, false, null, throwing or rejecting is a 500 with Connection: close", async () => {
    const results: Array<() => unknown> = [
      () => 0,
      () => false,
      () => null,
      () => undefined,
      () => {
        throw new Error("boom");
      },
      () => Promise.reject(new Error("boom")),
      () => ({ not: "bytes" }),
    ];
    let which = 0;
    callback("Failing", () => results[which]!() as number);
    const lid = await callbackhttp.Open("Failing", -1, 0);
    for (which = 0; which < results.length; which++) {
      const { data, closed } = await sendRaw(callbackhttp.Port(lid), [GET]);
      assert.equal(
        data.toString("latin1"),
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 26\r\nConnection: close\r\n\r\n500 Internal Server Error\n",
        `result #${which}`,
      );
      assert.ok(closed);
    }
    await callbackhttp.Close(lid);
  });

  test("results that fail on reading are 500s, a detached array answers nothing, and the listener carries on", async (t) => {
    const detached = (): Uint8Array => {
      const bytes = new TextEncoder().encode(OK);
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] }); // moves its buffer away: bytes is now empty
      return bytes;
    };
    const cases: Array<[string, (ref: { value: unknown }) => unknown, string]> = [
      ["a detached Uint8Array", () => detached(), ""],
      [
        "a detached Uint8Array in ref.value",
        (ref) => {
          ref.value = detached();
          return 1;
        },
        "",
      ],
      [
        "a ref.value whose getter throws",
        (ref) => {
          Object.defineProperty(ref, "value", {
            get() {
              throw new Error("no value");
            },
          });
          return 1;
        },
        "500",
      ],
      [
        "an object whose then getter throws",
        () => ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable of the callback's own is the case under test
          get then() {
            throw new Error("no then");
          },
        }),
        "500",
      ],
      [
        "a thenable that answers, then throws",
        () => ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable of the callback's own is the case under test
          then(resolve: (v: string) => void) {
            resolve(OK);
            throw new Error("after answering");
          },
        }),
        OK,
      ],
      ["a plain answer after all of them", () => OK, OK],
    ];
    let which = 0;
    callback("OddResults", (ref) => cases[which]![1](ref as { value: unknown }) as number);
    const lid = await callbackhttp.Open("OddResults", -1, 0);
    t.after(() => callbackhttp.Close(lid));
    for (; which < cases.length; which++) {
      const [what, , expected] = cases[which]!;
      const { data, closed } = await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 2000 });
      const text = data.toString("latin1");
      if (expected === "500") assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/, what);
      else assert.equal(text, expected, what);
      if (expected !== OK) assert.ok(closed, `${what}: the connection closes`);
    }
  });

  test("the largest timeoutMs (2147483647) runs callbacks without a timer overflow warning", async (t) => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on("warning", onWarning);
    t.after(() => process.off("warning", onWarning));
    callback("Patient", () => new Promise<string>((resolve) => setTimeout(() => resolve(OK), 20)));
    const lid = await callbackhttp.Open("Patient", 2147483647, 0);
    t.after(() => callbackhttp.Close(lid));
    const { data } = await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 2000 });
    assert.equal(data.toString("latin1"), OK);
    await new Promise((resolve) => setTimeout(resolve, 10)); // warnings are emitted a tick later
    assert.deepEqual(warnings, []);
  });

  test("a non-zero return with value untouched echoes the request bytes, then closes", async () => {
    callback("Echo", () => 1);
    const lid = await callbackhttp.Open("Echo", -1, 0);
    const { data, closed } = await sendRaw(callbackhttp.Port(lid), [GET]);
    assert.equal(data.toString("latin1"), GET);
    assert.ok(closed);
    await callbackhttp.Close(lid);
  });

  test("value set to a string or bytes is written unchanged", async (t) => {
    const RAW = "HTTP/1.1 201 Created\r\nX-Raw:  spaced \r\nContent-Length: 3\r\n\r\nnew";
    const values: Array<[string, () => string | Uint8Array]> = [
      ["a string", () => RAW],
      ["a Buffer", () => Buffer.from(RAW, "latin1")],
      ["a plain Uint8Array", () => new Uint8Array(Buffer.from(RAW, "latin1"))],
      // A view into a larger buffer: only the view's bytes go out.
      [
        "a Uint8Array view",
        () => {
          const whole = Buffer.from(`xx${RAW}yy`, "latin1");
          return new Uint8Array(whole.buffer, whole.byteOffset + 2, RAW.length);
        },
      ],
    ];
    let next = 0;
    callback("SetValue", (r) => {
      r.value = values[next]![1]();
      return 7;
    });
    const lid = await callbackhttp.Open("SetValue", -1, 0);
    t.after(() => callbackhttp.Close(lid));
    for (; next < values.length; next++) {
      const { data } = await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 300 });
      assert.equal(data.toString("latin1"), RAW, values[next]![0]);
    }
  });

  test("an async callback past timeoutMs gets 503 on time; its late answer is dropped and its signal fired", async () => {
    let reason: unknown = null;
    let lateAnswered = false;
    callback("Slow", (_r, ctx) => {
      ctx.signal.addEventListener("abort", () => {
        reason = ctx.signal.reason;
      });
      return new Promise<string>((resolve) =>
        setTimeout(() => {
          lateAnswered = true;
          resolve(OK);
        }, 400),
      );
    });
    const lid = await callbackhttp.Open("Slow", 50, 0);
    const { data, closed } = await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 2000 });
    assert.deepEqual(statuses(data), [503]);
    assert.ok(closed);
    assert.equal(lateAnswered, false, "the 503 waited for the late answer");
    assert.equal((reason as DOMException).name, "TimeoutError");
    assert.equal(callbackhttp.Running(lid), 0);
    assert.equal(callbackhttp.Drained(lid), 1);
    assert.equal(callbackhttp.Info(lid).includes("timeout=50"), true);
    await new Promise((r) => setTimeout(r, 450)); // the late answer arrives and is dropped
    assert.equal(callbackhttp.Active(lid), 0);
    assert.equal(await callbackhttp.Close(lid), 1);
  });

  test("a synchronous callback that overruns its limit is answered 503, not with its late result", async () => {
    callback("Busy", () => {
      const end = Date.now() + 60;
      while (Date.now() < end);
      return OK;
    });
    const lid = await callbackhttp.Open("Busy", 20, 0);
    const { data } = await sendRaw(callbackhttp.Port(lid), [GET]);
    assert.deepEqual(statuses(data), [503]);
    await callbackhttp.Close(lid);
  });

  test("the context names the listener and the peer", async (t) => {
    let seen: { id: number; address: string; port: number; draining: boolean; same: boolean } | null = null;
    callback("Ctx", (r, ctx) => {
      const same = r.context === ctx;
      seen = { id: ctx.listenerId, address: ctx.remoteAddress, port: ctx.remotePort, draining: ctx.draining, same };
      return OK;
    });
    const lid = await callbackhttp.Open("Ctx", -1, 0);
    t.after(() => callbackhttp.Close(lid));
    await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 300 });
    assert.ok(seen);
    const s = seen as { id: number; address: string; port: number; draining: boolean; same: boolean };
    assert.equal(s.same, true, "ref.context is the context the callback got");
    assert.equal(s.id, lid);
    assert.equal(s.address, "127.0.0.1");
    assert.ok(s.port > 0);
    assert.equal(s.draining, false);
    await callbackhttp.Close(lid);
  });

  test("context.willClose tells the callback when the connection closes after its response", async () => {
    const seen: boolean[] = [];
    callback("WillClose", (_r, ctx) => {
      seen.push(ctx.willClose);
      return buildResponse({ body: "x", context: ctx });
    });
    const lid = await callbackhttp.Open("WillClose", -1, 0);
    const port = callbackhttp.Port(lid);
    const kept = await sendRaw(port, [GET], { timeoutMs: 300 });
    assert.equal(
      kept.data.toString("latin1"),
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nKeep-Alive: timeout=4\r\n\r\nx",
    );
    const closing = await sendRaw(port, ["GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"]);
    assert.equal(closing.data.toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
    assert.ok(closing.closed);
    const old = await sendRaw(port, ["GET / HTTP/1.0\r\n\r\n"]);
    assert.match(old.data.toString("latin1"), /Connection: close/);
    assert.deepEqual(seen, [false, true, true]);
    await callbackhttp.Close(lid);
  });

  test("the helpers tell the client how long an idle connection stays open, and only when it does", async (t) => {
    const seen: number[] = [];
    callback("KeepAliveHint", (_r, ctx) => {
      seen.push(ctx.keepAliveTimeoutMs);
      return textResponse(200, "x", ctx);
    });
    const lid = await callbackhttp.Open("KeepAliveHint", -1, 0, 0, { keepAliveTimeoutMs: 2500 });
    t.after(() => callbackhttp.Close(lid));
    const url = `http://127.0.0.1:${callbackhttp.Port(lid)}/`;
    const kept = await fetch(url);
    assert.equal(await kept.text(), "x");
    assert.equal(kept.headers.get("keep-alive"), "timeout=1");
    assert.equal(kept.headers.get("connection"), null);
    const closing = await fetch(url, { headers: { connection: "close" } });
    assert.equal(await closing.text(), "x");
    assert.equal(closing.headers.get("keep-alive"), null);
    assert.equal(closing.headers.get("connection"), "close");
    assert.deepEqual(seen, [2500, 2500]);
    // Keep-alive off: every connection closes, and the response says so instead.
    const off = await callbackhttp.Open("KeepAliveHint", -1, 0, 0, { keepAliveTimeoutMs: 0 });
    t.after(() => callbackhttp.Close(off));
    const { data, closed } = await sendRaw(callbackhttp.Port(off), [GET]);
    assert.ok(closed);
    assert.match(data.toString("latin1"), /\r\nConnection: close\r\n\r\nx$/);
    assert.doesNotMatch(data.toString("latin1"), /Keep-Alive/i);
    assert.equal(seen.at(-1), 0);
  });

  test("an HTTP/1.0 client that asks to keep the connection keeps it when a helper answers", async (t) => {
    callback("Http10", (ref, ctx) => textResponse(200, `${ctx.httpVersion} ${ref.value.length}`, ctx));
    const lid = await callbackhttp.Open("Http10", -1, 0);
    t.after(() => callbackhttp.Close(lid));
    const ask = "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    // ApacheBench's -k sends its requests like this, one after the other on one connection.
    const two = await sendRaw(callbackhttp.Port(lid), [ask, ask], { gapMs: 100, timeoutMs: 1000 });
    const text = two.data.toString("latin1");
    assert.equal(text.match(/Connection: keep-alive\r\nKeep-Alive: timeout=4\r\n\r\n1\.0 43/g)?.length, 2, text);
    assert.equal(two.closed, false);
    // Without the request asking, HTTP/1.0 closes after one response, and the response says so.
    const one = await sendRaw(callbackhttp.Port(lid), ["GET /a HTTP/1.0\r\n\r\n", ask], { gapMs: 100 });
    assert.match(one.data.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n\r\n1\.0 19$/);
    assert.ok(one.closed);
  });

  test("a HEAD request answered by a helper given the context: Node's client reads it and reuses the connection", async (t) => {
    callback("Hello", (ref, ctx) => textResponse(200, `hello ${ref.value.length}\n`, ctx));
    const lid = await callbackhttp.Open("Hello", -1, 0);
    t.after(() => callbackhttp.Close(lid));
    const { request, Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const ask = (method: string): Promise<{ status: number; body: string; port: number }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: callbackhttp.Port(lid), method, path: "/", agent }, (res) => {
          let body = "";
          res.setEncoding("latin1");
          res.on("data", (d: string) => (body += d));
          const port = res.socket.localPort ?? -1;
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, port }));
        });
        req.on("error", reject);
        req.end();
      });
    const head = await ask("HEAD");
    const get = await ask("GET");
    assert.deepEqual([head.status, head.body], [200, ""]);
    assert.equal(get.status, 200);
    assert.match(get.body, /^hello \d+\n$/);
    assert.equal(get.port, head.port, "one connection for both");
  });

  test("Open takes a function in place of a name; RouteCallback returns its name", async () => {
    const lid = await callbackhttp.Open(function OnDirect() {
      return OK;
    }, -1);
    assert.equal(callbackhttp.RouteCallback(lid), "OnDirect");
    const { data } = await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 300 });
    assert.equal(data.toString("latin1"), OK);
    await callbackhttp.Close(lid);
  });
});

describe("bounded Close and a zero limit", () => {
  test("Close abandons a callback that has not settled once closeTimeoutMs passes", async () => {
    // It would settle after 0.9 s: Close, given 100 ms, must not wait for it (by default it would), nor
    // spend its 1 s write grace on it: an abandoned callback has nothing to write, and the 503 of the
    // request pipelined behind it never can be written.
    let settled = false;
    callback(
      "SettlesLate",
      () =>
        new Promise<number>((resolve) =>
          setTimeout(() => {
            settled = true;
            resolve(1);
          }, 900),
        ),
    );
    const lid = await callbackhttp.Open("SettlesLate", -1, 0, 0, { closeTimeoutMs: 100 });
    const reply = sendRaw(callbackhttp.Port(lid), [GET + GET], { timeoutMs: 3000 });
    await until(() => callbackhttp.Running(lid) === 1 && callbackhttp.Queued(lid) === 1, "the callback");
    assert.equal(await callbackhttp.Close(lid), 1);
    assert.equal(settled, false, "Close waited for the callback");
    assert.equal(callbackhttp.Running(lid), 0);
    assert.equal(callbackhttp.Drained(lid), 1);
    const { data, closed } = await reply;
    assert.equal(data.length, 0);
    assert.ok(closed);
  });

  test("Close abandons a stuck callback but still lets the answer before it on its connection be written", async () => {
    // A 16 MiB answer, then a pipelined request whose callback never settles, to a client that starts
    // reading only after closeTimeoutMs: the answer it is owed goes out within Close's write grace.
    const big = buildResponse({ body: Buffer.alloc(16 * 1024 * 1024, 0x63) });
    callback("BigThenStuck", (ref) =>
      Buffer.from(ref.value as Uint8Array).includes("GET /big ") ? big : new Promise<number>(() => {}),
    );
    const lid = await callbackhttp.Open("BigThenStuck", -1, 0, 0, { closeTimeoutMs: 100 });
    const socket = await open(callbackhttp.Port(lid));
    socket.pause();
    let received = 0;
    socket.on("data", (d: Buffer) => {
      received += d.length;
    });
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    socket.write(`GET /big HTTP/1.1\r\nHost: t\r\n\r\n${GET}`);
    await until(() => callbackhttp.Running(lid) === 1, "the stuck callback");
    const closing = callbackhttp.Close(lid);
    await new Promise((resolve) => setTimeout(resolve, 150));
    socket.resume();
    assert.equal(await closing, 1);
    await closed;
    assert.equal(received, big.length);
  });

  test("timeoutMs 0 serves a callback that answers within the millisecond, and cuts one that takes longer", async (t) => {
    callback("InstantOrNot", (r) => {
      // GET /slow keeps the thread for 5 ms: past a zero limit, whatever the clock's grain.
      if (Buffer.from(r.value as Uint8Array).includes("/slow ")) {
        const end = performance.now() + 5;
        while (performance.now() < end);
      }
      return OK;
    });
    const lid = await callbackhttp.Open("InstantOrNot", 0, 0);
    t.after(() => callbackhttp.Close(lid));
    // An instant callback can still be preempted past the millisecond when the machine is busy (the
    // suite's files run in parallel on two cores): each try is answered 200 or 503, and one of five must
    // be 200. A zero limit that cut every callback would fail all five.
    const answers: string[] = [];
    for (let i = 0; i < 5 && answers.at(-1) !== OK; i++) {
      const { data } = await sendRaw(callbackhttp.Port(lid), [GET], { timeoutMs: 300 });
      answers.push(data.toString("latin1"));
    }
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 (200|503) /);
    assert.equal(answers.at(-1), OK, `never answered within the millisecond: ${answers.length} tries`);
    const slow = await sendRaw(callbackhttp.Port(lid), ["GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"], { timeoutMs: 1000 });
    assert.deepEqual(statuses(slow.data), [503]);
  });
});

describe("a closing connection's last answers and a slow reader", () => {
  // A client with a tiny receive buffer (8 KiB) that reads slowly: each answer is larger than the
  // kernel's send buffer can hold, so the listener holds much of it queued while the client reads.
  const PYTHON = `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /a HTTP/1.1\\r\\nHost: t\\r\\n\\r\\nGET /b HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
time.sleep(0.3)
total = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    total += len(d)
    print(total, flush=True)
    time.sleep(0.001)
print("EOF", total, flush=True)
`;
  test("reaches the client whole, however long it reads, and Drained waits until the kernel has it all", {
    timeout: 60_000,
  }, async () => {
    const { spawn } = await import("node:child_process");
    const SIZE = 6 * 1024 * 1024;
    const head = `HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`;
    const answer = Buffer.concat([Buffer.from(head), Buffer.alloc(SIZE, 0x61)]);
    // The second answer comes later, in a write of its own behind the first, still unsent.
    callback("BigAnswers", (ref) =>
      Buffer.from(ref.value as Uint8Array).includes("GET /b")
        ? new Promise<Buffer>((resolve) => setTimeout(() => resolve(Buffer.from(answer)), 100))
        : Buffer.from(answer),
    );
    const lid = await callbackhttp.Open("BigAnswers", -1, 0);
    try {
      const child = spawn("python3", ["-c", PYTHON, String(callbackhttp.Port(lid))], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let received = 0;
      let sawActive = false;
      let outstandingAtDrained = -1;
      let eof = -1;
      let buffered = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (text: string) => {
        buffered += text;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith("EOF ")) eof = Number(line.slice(4));
          else received = Number(line);
          // Answers counted Active, then Drained: note what the client still lacked at that moment.
          if (callbackhttp.Active(lid) > 0) sawActive = true;
          else if (sawActive && outstandingAtDrained < 0 && callbackhttp.Drained(lid) === 1) {
            outstandingAtDrained = 2 * answer.length - received;
          }
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0);
      // The whole of both answers, though reading them took longer than the listener's 2 s linger.
      assert.equal(eof, 2 * answer.length);
      // Drained may come before the client has read everything the kernel holds, never while the
      // listener itself still held bytes: at most what the kernel's buffers took (well under one answer).
      assert.ok(outstandingAtDrained >= 0, "Drained was never seen");
      assert.ok(
        outstandingAtDrained < answer.length,
        `Drained while the client still lacked ${outstandingAtDrained} bytes (more than a whole answer)`,
      );
    } finally {
      await callbackhttp.Close(lid);
    }
  });

  test("a client reading a closing connection's large answer steadily but slowly is not cut", {
    timeout: 60_000,
  }, async () => {
    // 16 KiB every 50 ms (320 KB/s) through an 8 KiB receive buffer for 5 s, then as fast as it can. The
    // system takes more of the answer only once half its send buffer (MiBs on loopback) has drained: with
    // a 2 s window of no progress, this client was cut after 2 s with a clean FIN, its answer short.
    const SLOW = `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n")
total = 0
eof_while_slow = False
end = time.time() + 5
while time.time() < end:
    d = s.recv(16384)
    if not d:
        eof_while_slow = True
        break
    total += len(d)
    time.sleep(0.05)
while not eof_while_slow:
    d = s.recv(1 << 20)
    if not d:
        break
    total += len(d)
print("EOF_WHILE_SLOW" if eof_while_slow else "SLOW_PHASE_OK", total, flush=True)
`;
    const { spawn } = await import("node:child_process");
    const SIZE = 12 * 1024 * 1024;
    const answer = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`),
      Buffer.alloc(SIZE, 0x62),
    ]);
    const listener = await HttpListener.open({ callback: () => answer });
    try {
      const child = spawn("python3", ["-c", SLOW, String(listener.port)], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (text: string) => {
        out += text;
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0);
      assert.equal(out.trim(), `SLOW_PHASE_OK ${answer.length}`);
    } finally {
      await listener.close();
    }
  });
});
