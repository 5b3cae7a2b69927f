/**
 * The CONSUMER span of one message a feed fans out to its SSE and WebSocket
 * clients: one per message and feed (not per client, so 10,000 dashboards cost
 * one span), child of the context the message carries, and written back into
 * the envelope's `traceparent` so a browser can continue the trace.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import type { Span } from "@opentelemetry/api";
import type { Envelope } from "../events/envelope.js";
import { MSG_ID_HEADER } from "../nats/headers.js";
import { ATTR, MAX_ATTRIBUTE_CHARS, NO_SPAN, SpanKind, type Tracing } from "../telemetry/tracing.js";

/** Starts the span; returns it (the caller ends it once the frame is handed out) and the envelope carrying its context. */
export function processSpan(tracing: Tracing, e: Envelope, headers: MsgHdrs | undefined, bytes: number, queue: string | undefined, subscribers: number): { span: Span; envelope: Envelope } {
  if (!tracing.recording) return { span: NO_SPAN, envelope: e };
  const msgId = headers?.get(MSG_ID_HEADER);
  const span = tracing.startMessaging(`process ${e.subject}`, SpanKind.CONSUMER, tracing.extract(headers), e.subject, {
    ...(msgId ? { [ATTR.messageId]: msgId.slice(0, MAX_ATTRIBUTE_CHARS) } : {}),
    [ATTR.operationName]: "process",
    [ATTR.operationType]: "process",
    [ATTR.bodySize]: bytes,
    ...(queue !== undefined ? { [ATTR.consumerGroup]: queue } : {}),
    ...(e.stream !== undefined ? { "natsgate.stream": e.stream, "natsgate.stream.seq": e.seq! } : {}),
    "natsgate.subscribers": subscribers,
  });
  // Not recorded (no SDK, or not sampled): nothing to carry, and no copy per message.
  if (!span.isRecording()) return { span, envelope: e };
  const h: Record<string, string> = { ...e.headers };
  tracing.inject(span, h);
  // Headers right after data, the documented key order.
  const { subject, data, headers: _old, ...rest } = e;
  return { span, envelope: { subject, data, headers: h, ...rest } };
}
