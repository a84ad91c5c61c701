// The two-step shutdown: RouteClose refuses new connections at once, the
// request already in its callback finishes and is answered, then Close.
// Run: npm run build:test && node build/examples/graceful-shutdown.js
import { buildResponse, callback, callbackhttp } from "../src/index.js";

callback("Slow", async (_r, ctx) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return buildResponse({ body: "done\n", context: ctx }); // while draining, adds Connection: close to a connection's last answer
});

const lid = await callbackhttp.Open("Slow", 5000, 0);
const inFlight = fetch(`http://127.0.0.1:${callbackhttp.Port(lid)}/work`);
while (callbackhttp.Running(lid) === 0) await new Promise((resolve) => setTimeout(resolve, 5));

console.log("RouteClose", callbackhttp.RouteClose(lid));
console.log("running", callbackhttp.Running(lid), "drained", callbackhttp.Drained(lid));
console.log("WaitRouteDrained", await callbackhttp.WaitRouteDrained(lid, 2000));
const res = await inFlight;
console.log("in-flight answer", res.status, res.headers.get("connection"), JSON.stringify(await res.text()));
console.log("Close", await callbackhttp.Close(lid), "OpenCount", callbackhttp.OpenCount());
