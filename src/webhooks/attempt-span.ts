/**
 * The CLIENT span of one webhook attempt (HTTP client conventions: named by
 * method, the URL as the admin API shows it, masked), child of the context the
 * event carries; its context goes out as the request's `traceparent`.
 */
import { SpanStatusCode, type Span } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL } from "@opentelemetry/semantic-conventions";
import type { WebhookSpec } from "../config/webhook.js";
import type { Envelope } from "../events/envelope.js";
import { ATTR, SpanKind, type Tracing } from "../telemetry/tracing.js";
import type { AttemptResult } from "./http-send.js";
import { maskUrl } from "./model.js";

/** Starts the span of attempt number `attempt` of `env` to `hook`. */
export function attemptSpan(tracing: Tracing, hook: WebhookSpec, env: Envelope, attempt: number): Span {
  const url = new URL(hook.url);
  return tracing.start("POST", SpanKind.CLIENT, tracing.extract(env.headers), {
    [ATTR_HTTP_REQUEST_METHOD]: "POST",
    [ATTR_URL_FULL]: maskUrl(hook.url),
    [ATTR_SERVER_ADDRESS]: url.hostname,
    [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === "https:" ? 443 : 80),
    [ATTR.system]: "nats",
    [ATTR.destination]: env.subject,
    "natsgate.webhook.id": hook.id ?? "",
    "natsgate.webhook.attempt": attempt,
  });
}

/** Ends it with the attempt's outcome: a 2xx is OK, anything else an error. */
export function endAttemptSpan(span: Span, result: AttemptResult): void {
  if (result.status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
  const failed = result.status === undefined || result.status >= 300;
  if (failed) {
    span.setAttribute(ATTR_ERROR_TYPE, result.error ?? String(result.status));
    span.setStatus({ code: SpanStatusCode.ERROR, ...(result.message ? { message: result.message } : {}) });
  }
  span.end();
}
