// A minimal server: one callback answers every request with the same bytes.
// Run: npm run build:test && node build/examples/hello.js
import { callback, callbackhttp } from "../src/index.js";

callback("OnRequest", (r) => {
  r.value = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
  return 1;
});

const lid = await callbackhttp.Open("OnRequest", -1, 0, callbackhttp.BindLocalOnly());
const port = callbackhttp.Port(lid);
const res = await fetch(`http://127.0.0.1:${port}/`);
console.log(res.status, JSON.stringify(await res.text()));
console.log(await callbackhttp.Close(lid));
