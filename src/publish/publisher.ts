/**
 * Publishing and request/reply on the shared connection. A subject captured by
 * a JetStream stream is published with JetStream and acknowledged; any other
 * subject is a core publish, refused with 503 while disconnected so that no
 * client is told "accepted" for a message nats.js would only buffer.
 */
import type { Msg } from "@nats-io/nats-core";
import { PubHeaders } from "@nats-io/jetstream";
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS } from "../config/schema.js";
import { BadRequestError, GatewayError, PreconditionFailedError, StreamMismatchError } from "../errors.js";
import type { MetricsRecorder } from "../telemetry/recorder.js";
import type { OutboundEvent } from "../events/event.js";
import type { NatsClient } from "../nats/client.js";
import { fromNatsError, type NatsOperation } from "../nats/errors.js";
import { MSG_ID_HEADER } from "../nats/headers.js";
import type { Context as TraceContext, Span } from "@opentelemetry/api";
import { ATTR, endSpan, MAX_ATTRIBUTE_CHARS, SpanKind, Tracing } from "../telemetry/tracing.js";


/**
 * A request's timeout in ms, from `?timeout=` (HTTP) or a `req` frame's
 * `timeout` (WebSocket): DEFAULT_REQUEST_TIMEOUT_MS when absent, else a whole
 * number from 1 to MAX_REQUEST_TIMEOUT_MS.
 */
export function requestTimeout(value: unknown): number {
  if (value === undefined || value === "") return DEFAULT_REQUEST_TIMEOUT_MS;
  const ms = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_REQUEST_TIMEOUT_MS) {
    throw new BadRequestError(`timeout must be a whole number of milliseconds from 1 to ${MAX_REQUEST_TIMEOUT_MS}, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** Outcome of one publish. */
export interface PublishResult {
  subject: string;
  /** Set when a stream captured the subject and acknowledged the message. */
  stream?: string;
  seq?: number;
  duplicate?: boolean;
}

/** HTTP status for a successful publish: 201 stored in a stream, 202 core NATS. */
export function publishStatus(result: PublishResult): 201 | 202 {
  return result.stream === undefined ? 202 : 201;
}

/** Publishes prepared events and performs requests. */
export class Publisher {
  constructor(
    private readonly nats: NatsClient,
    private readonly tracing: Tracing = new Tracing(),
    private readonly metrics?: MetricsRecorder,
  ) {}

  /**
   * Publishes one event; resolves once NATS (or the stream) has it. A PRODUCER
   * span, child of `parent` (the request's) or else of the event's own
   * traceparent, goes with the message as its traceparent.
   */
  async publish(ev: OutboundEvent, parent?: TraceContext): Promise<PublishResult> {
    const span = this.#span("publish", SpanKind.PRODUCER, ev, parent);
    const stream = this.nats.streamIndex.find(ev.subject);
    const kind = stream === undefined ? "core" : "jetstream";
    try {
      const result = stream === undefined ? await this.#core(ev) : await this.#jetstream(ev);
      if (result.stream !== undefined) span.setAttributes({ "natsgate.stream": result.stream, "natsgate.stream.seq": result.seq! });
      endSpan(span);
      this.metrics?.publish(kind, "ok");
      return result;
    } catch (err) {
      endSpan(span, err);
      this.metrics?.publish(kind, err instanceof GatewayError ? err.status : 500);
      throw err;
    }
  }

  #span(operation: "publish" | "request", kind: SpanKind, ev: OutboundEvent, parent: TraceContext | undefined): Span {
    const msgId = ev.headers.has(MSG_ID_HEADER) ? ev.headers.get(MSG_ID_HEADER) : undefined;
    const span = this.tracing.startMessaging(`${operation} ${ev.subject}`, kind, parent ?? this.tracing.extract(ev.headers), ev.subject, {
      [ATTR.operationName]: operation,
      [ATTR.operationType]: "send",
      [ATTR.bodySize]: ev.payload.byteLength,
      ...(msgId ? { [ATTR.messageId]: msgId.slice(0, MAX_ATTRIBUTE_CHARS) } : {}),
    });
    this.tracing.inject(span, ev.headers);
    return span;
  }

  async #jetstream(ev: OutboundEvent): Promise<PublishResult> {
    if (ev.expect?.stream !== undefined) ev.headers.set(PubHeaders.ExpectedStreamHdr, ev.expect.stream);
    if (ev.expect?.lastSequence !== undefined) ev.headers.set(PubHeaders.ExpectedLastSeqHdr, String(ev.expect.lastSequence));
    await this.nats.nextTurn();
    try {
      this.nats.sending();
      const ack = await this.nats.acks().publish(ev.subject, ev.payload, ev.headers);
      return { subject: ev.subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw this.#error(err, "jetstream", ev.subject);
    }
  }

  async #core(ev: OutboundEvent): Promise<PublishResult> {
    if (ev.expect?.stream !== undefined) {
      throw new StreamMismatchError(`${ev.subject} is not captured by any stream, so not by ${ev.expect.stream}`);
    }
    if (ev.expect?.lastSequence !== undefined) {
      throw new PreconditionFailedError(`${ev.subject} is not captured by any stream; Expect-Last-Sequence cannot hold`);
    }
    await this.nats.nextTurn();
    // 202 means the server has it: a pong after it proves that (one ping per turn).
    // Asked for before the publish, in the same synchronous run: the ping still
    // follows the message, and goes out in the turn's one socket write.
    // A refused publish (no connection, a stalled server) asks for no ping.
    let confirmed: Promise<void> | undefined;
    try {
      const nc = this.nats.sending();
      confirmed = this.nats.confirmed();
      nc.publish(ev.subject, ev.payload, { headers: ev.headers });
    } catch (err) {
      confirmed?.catch(() => {});
      throw this.#error(err, "publish", ev.subject);
    }
    await confirmed;
    return { subject: ev.subject };
  }

  /** Sends a request and resolves with the reply (a CLIENT span covers the round trip). */
  async request(ev: OutboundEvent, timeoutMs: number, parent?: TraceContext): Promise<Msg> {
    const span = this.#span("request", SpanKind.CLIENT, ev, parent);
    try {
      const reply = await this.nats.sending().request(ev.subject, ev.payload, { headers: ev.headers, timeout: timeoutMs });
      endSpan(span);
      return reply;
    } catch (err) {
      const mapped = this.#error(err, "request", ev.subject);
      endSpan(span, mapped);
      throw mapped;
    }
  }

  #error(err: unknown, op: NatsOperation, subject: string) {
    return fromNatsError(err, op, subject, { connected: this.nats.connected, maxPayload: this.nats.maxPayload() });
  }
}
