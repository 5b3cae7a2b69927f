/** `POST /v1/request/{subject}?timeout=ms`: NATS request/reply over HTTP. */
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { readBody } from "../src/http/body.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS } from "../src/config/schema.js";
import { BadRequestError } from "../src/errors.js";
import { eventFromHttp } from "../src/events/event.js";
import { httpHeadersFromNats } from "../src/nats/headers.js";
import { subjectParam } from "../src/http/problem.js";
import { auditTrail, authenticate } from "../src/security/middleware.js";

/** Parses `?timeout=` in ms: 1 to MAX_REQUEST_TIMEOUT_MS. */
export function parseTimeout(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_REQUEST_TIMEOUT_MS;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 1 || ms > MAX_REQUEST_TIMEOUT_MS) {
    throw new BadRequestError(`timeout must be a whole number of milliseconds from 1 to ${MAX_REQUEST_TIMEOUT_MS}, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** Request routes, mounted at `/v1/request`. */
export function requestRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(authenticate(gw));
  app.post("/:subject", auditTrail(gw, "request"), async (c) => {
    const subject = subjectParam(c, "/v1/request/");
    c.set("audit", { subject });
    const timeout = parseTimeout(c.req.query("timeout"));
    const body = await readBody(c.req.raw, gw.bodyLimit());
    const reply = await gw.publisher.request(eventFromHttp(gw.rules, c.var.principal, subject, c.req.raw.headers, body), timeout);
    const headers = new Headers(httpHeadersFromNats(reply.headers));
    if (!headers.has("content-type")) headers.set("content-type", "application/octet-stream");
    return new Response(reply.data as Uint8Array<ArrayBuffer>, { status: 200, headers });
  });
  return app;
}
