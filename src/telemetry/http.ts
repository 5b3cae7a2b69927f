/**
 * Per-request telemetry: an HTTP SERVER span named by route template (`POST
 * /v1/publish/:subject`, never the raw path), child of the caller's
 * `traceparent`, whose context is handed to the handlers (`c.get("trace")`) so the
 * publish they make is its child; and the request counted in the metrics by
 * the same template.
 */
import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_SCHEME } from "@opentelemetry/semantic-conventions";
import { isSpanContextValid, SpanStatusCode, trace } from "@opentelemetry/api";
import type { AppEnv } from "../http/env.js";
import { SpanKind, type Tracing } from "./tracing.js";
import type { MetricsRecorder } from "./recorder.js";

/** A request id taken from the caller: short, and nothing a log line or header could trip on. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The fields that tie a log line or audit record to its request. */
export interface RequestIds {
  requestId?: string;
  /** Only where the request has trace context. */
  traceId?: string;
}

/** The fields that tie a log line or audit record to its request: the request id and, where there is one, the trace id. */
export function requestFields(c: Context<AppEnv>): RequestIds {
  const span = c.get("trace") ? trace.getSpanContext(c.get("trace")) : undefined;
  return { requestId: c.get("requestId"), ...(span && isSpanContextValid(span) ? { traceId: span.traceId } : {}) };
}

/** The route label of requests no route served (404s of unknown paths). */
export const UNMATCHED = "unmatched";

/** The telemetry middleware. */
export function observeRequests(tracing: Tracing, metrics: MetricsRecorder): MiddlewareHandler<AppEnv> {
  return async function observeRequests(c, next) {
    const started = performance.now();
    const method = c.req.method;
    const given = c.req.header("x-request-id");
    c.set("requestId", given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID());
    const parent = tracing.extract(c.req.raw.headers);
    const span = tracing.start(method, SpanKind.SERVER, parent, {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      [ATTR_URL_PATH]: c.req.path,
      // Not new URL(): a parse per request shows in the publish benchmark.
      [ATTR_URL_SCHEME]: c.req.url.startsWith("https:") ? "https" : "http",
    });
    c.set("trace", trace.setSpan(parent, span));
    try {
      await next();
    } finally {
      // Known once routed: the template of the handler that answered. Only the app-wide
      // middleware ("/*") matched a path nothing serves: one label for all of those, no http.route.
      const template = routePath(c, -1);
      const route = template === "/*" ? UNMATCHED : template;
      if (route !== UNMATCHED) {
        span.updateName(`${method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      metrics.request(route, method, c.res.status, (performance.now() - started) / 1000);
      try {
        c.res.headers.set("X-Request-Id", c.get("requestId"));
      } catch {
        // Some responses (an upgrade's) have immutable headers; the id is in the logs all the same.
      }
    }
  };
}
