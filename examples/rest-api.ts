// A small REST API on HttpListener: routing by request line, JSON in and out.
// Run: npm run build:test && node build/examples/rest-api.js
import { HttpListener, jsonResponse, parseRequest } from "../src/index.js";

const notes = new Map<number, string>();
let nextId = 1;

const listener = await HttpListener.open({
  callback: (ref, ctx) => {
    const req = parseRequest(ref.value as Uint8Array);
    const id = /^\/notes\/(\d+)$/.exec(req.path)?.[1];
    if (req.method === "POST" && req.path === "/notes") {
      const note = nextId++;
      notes.set(note, (JSON.parse(req.body.toString("utf8")) as { text: string }).text);
      return jsonResponse(201, { id: note }, ctx);
    }
    if (req.method === "GET" && id !== undefined && notes.has(Number(id))) {
      return jsonResponse(200, { id: Number(id), text: notes.get(Number(id)) }, ctx);
    }
    if (req.method === "GET" && req.path === "/notes") return jsonResponse(200, [...notes.keys()], ctx);
    return jsonResponse(404, { error: `no route for ${req.method} ${req.path}` }, ctx);
  },
  timeoutMs: 1000,
});

const base = `http://127.0.0.1:${listener.port}`;
const created = await fetch(`${base}/notes`, { method: "POST", body: JSON.stringify({ text: "raw bytes in" }) });
console.log(created.status, await created.text());
console.log((await fetch(`${base}/notes/1`)).status, await (await fetch(`${base}/notes/1`)).text());
console.log((await fetch(`${base}/missing`)).status);
console.log(JSON.stringify(listener.stats().requests));
console.log(await listener.close());
