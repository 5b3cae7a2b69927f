/**
 * An HTTP SERVER span per request, named by route template (`POST
 * /v1/publish/:subject`, never the raw path), child of the caller's
 * `traceparent`. Its context is handed to the handlers (`c.var.trace`), so the
 * publish they make is its child.
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_SCHEME } from "@opentelemetry/semantic-conventions";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type { AppEnv } from "../http/env.js";
import { SpanKind, type Tracing } from "./tracing.js";

/** The tracing middleware. */
export function traceRequests(tracing: Tracing): MiddlewareHandler<AppEnv> {
  return async function traceRequests(c, next) {
    const method = c.req.method;
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
      // Known once routed: the template of the handler that answered.
      const route = routePath(c, -1);
      span.updateName(`${method} ${route}`);
      span.setAttribute(ATTR_HTTP_ROUTE, route);
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
