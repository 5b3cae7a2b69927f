/** `POST /v1/request/{subject}?timeout=ms`: NATS request/reply over HTTP. */
import { Hono } from "hono";
import type { CoreGateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { readBody } from "../src/http/body.js";
import { eventFromHttp } from "../src/events/event.js";
import { httpHeadersFromNats } from "../src/nats/headers.js";
import { subjectParam } from "../src/http/problem.js";
import { auditTrail, authenticate } from "../src/security/middleware.js";
import { requestTimeout } from "../src/publish/publisher.js";

/** Request routes, mounted at `/v1/request`. */
export function requestRoutes(gw: CoreGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(authenticate(gw));
  app.post("/:subject", auditTrail(gw, "request"), async (c) => {
    const subject = subjectParam(c, "/v1/request/");
    c.set("audit", { subject });
    const timeout = requestTimeout(c.req.query("timeout"));
    const body = await readBody(c.req.raw, gw.bodyLimit());
    const reply = await gw.publisher.request(eventFromHttp(gw.rules, c.get("principal"), subject, c.req.raw.headers, body), timeout, c.get("trace"));
    const headers = new Headers(httpHeadersFromNats(reply.headers));
    if (!headers.has("content-type")) headers.set("content-type", "application/octet-stream");
    return new Response(reply.data as Uint8Array<ArrayBuffer>, { status: 200, headers });
  });
  return app;
}
