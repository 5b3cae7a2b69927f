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
import { isSpanContextValid, SpanStatusCode, trace, type Context as TraceContext, type Span } from "@opentelemetry/api";
import type { HeaderSource } from "../http/header-source.js";
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
  return requestIds(c.get("requestId"), c.get("trace"));
}

/** `requestFields` from the id and trace context themselves. */
export function requestIds(requestId: string | undefined, context: TraceContext | undefined): RequestIds {
  const span = context ? trace.getSpanContext(context) : undefined;
  return { requestId, ...(span && isSpanContextValid(span) ? { traceId: span.traceId } : {}) };
}

/** The route label of requests no route served (404s of unknown paths). */
export const UNMATCHED = "unmatched";

/** A request's telemetry while it runs: its id, its SERVER span and the context its handler works in. */
export interface RequestTelemetry {
  requestId: string;
  span: Span;
  /** The span's context: what the handler's publish is a child of. */
  trace: TraceContext;
  /** performance.now() at the start, in ms. */
  started: number;
}

/** Starts a request's telemetry: the caller's X-Request-Id when sane, else a new one, and a span under its traceparent. */
export function beginRequest(tracing: Tracing, method: string, path: string, https: boolean, headers: HeaderSource): RequestTelemetry {
  const started = performance.now();
  const given = headers.get("x-request-id");
  const requestId = given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  const parent = tracing.extract(headers);
  const span = tracing.start(method, SpanKind.SERVER, parent, {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: path,
    [ATTR_URL_SCHEME]: https ? "https" : "http",
  });
  return { requestId, span, trace: trace.setSpan(parent, span), started };
}

/** Ends a request's span and counts it, by route template (`UNMATCHED` when no route served it). */
export function endRequest(metrics: MetricsRecorder, t: RequestTelemetry, method: string, route: string, status: number): void {
  const { span } = t;
  if (route !== UNMATCHED) {
    span.updateName(`${method} ${route}`);
    span.setAttribute(ATTR_HTTP_ROUTE, route);
  }
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
  metrics.request(route, method, status, (performance.now() - t.started) / 1000);
}

/** The telemetry middleware. */
export function observeRequests(tracing: Tracing, metrics: MetricsRecorder): MiddlewareHandler<AppEnv> {
  return async function observeRequests(c, next) {
    const method = c.req.method;
    // Not new URL(): a parse per request shows in the publish benchmark.
    const t = beginRequest(tracing, method, c.req.path, c.req.url.startsWith("https:"), c.req.raw.headers);
    c.set("requestId", t.requestId);
    c.set("trace", t.trace);
    try {
      await next();
    } finally {
      // Known once routed: the template of the handler that answered. Only the app-wide
      // middleware ("/*") matched a path nothing serves: one label for all of those, no http.route.
      const template = routePath(c, -1);
      endRequest(metrics, t, method, template === "/*" ? UNMATCHED : template, c.res.status);
      try {
        c.res.headers.set("X-Request-Id", t.requestId);
      } catch {
        // Some responses (an upgrade's) have immutable headers; the id is in the logs all the same.
      }
    }
  };
}
