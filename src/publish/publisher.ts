/**
 * Publishing and request/reply on the shared connection. A subject captured by
 * a JetStream stream is published with JetStream and acknowledged; any other
 * subject is a core publish, refused with 503 while disconnected so that no
 * client is told "accepted" for a message nats.js would only buffer.
 */
import type { Msg } from "@nats-io/nats-core";
import { PubHeaders, type PubAck } from "@nats-io/jetstream";
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS } from "../config/schema.js";
import { BadRequestError, GatewayError, PreconditionFailedError, StreamMismatchError } from "../errors.js";
import type { MetricsRecorder } from "../telemetry/recorder.js";
import type { OutboundEvent } from "../events/event.js";
import type { NatsClient } from "../nats/client.js";
import { fromNatsError, type NatsOperation } from "../nats/errors.js";
import { MSG_ID_HEADER } from "../nats/headers.js";
import type { Context as TraceContext, Span } from "@opentelemetry/api";
import { ATTR, endSpan, MAX_ATTRIBUTE_CHARS, NO_SPAN, SpanKind, Tracing } from "../telemetry/tracing.js";


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

/** An event handed to NATS (`Publisher.send`). */
export interface Sent {
  result: Promise<PublishResult>;
  /** JetStream will ack it (core publishes are confirmed by the turn's ping). */
  acked: boolean;
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
    await this.nats.nextTurn();
    // `return await`: returning the promise itself would cost two more microtask hops.
    return await this.#send(ev, span).result;
  }

  /** Resolves after this event-loop turn's I/O: what is sent then shares one socket write (`send`). */
  turn(): Promise<void> {
    return this.nats.nextTurn();
  }

  /**
   * Hands one event to NATS now, in the caller's synchronous run: a batch waits
   * for one `turn()` and then sends all its items in order, with no turn wait
   * and no promise chain of their own each. `acked` tells a JetStream publish
   * (its ack counts against the caller's window) from a core one (confirmed by
   * the turn's one ping). `result` settles as `publish`'s would; it never
   * throws synchronously.
   */
  send(ev: OutboundEvent, parent?: TraceContext): Sent {
    return this.#send(ev, this.#span("publish", SpanKind.PRODUCER, ev, parent));
  }

  #send(ev: OutboundEvent, span: Span): Sent {
    const stream = this.nats.streamIndex.find(ev.subject);
    const kind = stream === undefined ? "core" : "jetstream";
    const op = stream === undefined ? "publish" : "jetstream";
    let sent: Promise<PubAck | void>;
    try {
      sent = stream === undefined ? this.#core(ev) : this.#jetstream(ev);
    } catch (err) {
      sent = Promise.reject(err);
    }
    // One reaction per event: the span, the metric and the result, or the mapped error.
    const result = sent.then(
      (ack) => {
        const result: PublishResult = ack ? { subject: ev.subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate } : { subject: ev.subject };
        if (ack) span.setAttributes({ "natsgate.stream": ack.stream, "natsgate.stream.seq": ack.seq });
        endSpan(span);
        this.metrics?.publish(kind, "ok");
        return result;
      },
      (err: unknown) => {
        const mapped = this.#error(err, op, ev.subject);
        endSpan(span, mapped);
        this.metrics?.publish(kind, mapped.status);
        throw mapped;
      },
    );
    return { result, acked: stream !== undefined };
  }

  #span(operation: "publish" | "request", kind: SpanKind, ev: OutboundEvent, parent: TraceContext | undefined): Span {
    if (!this.tracing.recording) return NO_SPAN;
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

  /** Sends `ev` with JetStream now; the promise is its ack. Throws what cannot be sent. */
  #jetstream(ev: OutboundEvent): Promise<PubAck> {
    if (ev.expect?.stream !== undefined) ev.headers.set(PubHeaders.ExpectedStreamHdr, ev.expect.stream);
    if (ev.expect?.lastSequence !== undefined) ev.headers.set(PubHeaders.ExpectedLastSeqHdr, String(ev.expect.lastSequence));
    this.nats.sending();
    return this.nats.acks().publish(ev.subject, ev.payload, ev.headers);
  }

  /** Publishes `ev` on core NATS now; the promise is the server's confirmation. Throws what cannot be sent. */
  #core(ev: OutboundEvent): Promise<void> {
    if (ev.expect?.stream !== undefined) {
      throw new StreamMismatchError(`${ev.subject} is not captured by any stream, so not by ${ev.expect.stream}`);
    }
    if (ev.expect?.lastSequence !== undefined) {
      throw new PreconditionFailedError(`${ev.subject} is not captured by any stream; Expect-Last-Sequence cannot hold`);
    }
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
      throw err;
    }
    return confirmed;
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
