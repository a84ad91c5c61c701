/**
 * The demo application the CLI starts: one callback that branches on the
 * request line, as the reference suggests for several routes on one listener.
 * It serves a page, a JSON endpoint with the listener's live counters, and an
 * echo of the raw request. Built only on the public API.
 */

import type { CallbackContext, RequestRef } from "./exchange.js";
import { callbackhttp } from "./facade.js";
import { buildResponse, jsonResponse, parseRequest, textResponse } from "./helpers.js";

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>callbackhttp demo</title>
<h1>callbackhttp demo</h1>
<p>Every request here reached one callback as raw bytes; the callback chose the answer from the request line.</p>
<ul>
  <li><a href="/api/status">/api/status</a>: the listener's live counters, as JSON</li>
  <li><a href="/echo">/echo</a>: the raw bytes of your request, echoed back (any method)</li>
</ul>
`;

/** The demo's request callback. */
export function demoApp(ref: RequestRef, ctx: CallbackContext): Buffer {
  const request = parseRequest(ref.value as Uint8Array);
  const route = `${request.method} ${request.path}`;
  if (route === "GET /" || route === "HEAD /") {
    const headers = { "Content-Type": "text/html; charset=utf-8" };
    return buildResponse({ headers, body: PAGE, context: ctx }); // the head alone to a HEAD (ctx.head)
  }
  if (route === "GET /api/status") {
    const id = ctx.listenerId;
    return jsonResponse(
      200,
      {
        listener: id,
        info: callbackhttp.RouteInfo(id),
        running: callbackhttp.Running(id),
        active: callbackhttp.Active(id),
        draining: ctx.draining,
      },
      ctx,
    );
  }
  if (request.path === "/echo") {
    return buildResponse({
      headers: { "Content-Type": "text/plain; charset=utf-8" },
      body: Buffer.from(ref.value as Uint8Array),
      context: ctx,
    });
  }
  return textResponse(404, `no route for ${route}\n`, ctx);
}
