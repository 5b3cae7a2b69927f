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

/**
 * Where `Publisher.send` reports each event's outcome, by the tag it was sent
 * with: a result, or the mapped error. `acked` says the event held one of the
 * caller's JetStream ack slots, which this report releases.
 */
export interface SendSink {
  settled(tag: number, outcome: PublishResult | GatewayError, acked: boolean): void;
}

/**
 * Core publishes of one synchronous run, for one sink: they share the turn's
 * confirming ping (`confirmed`), so one reaction settles them all.
 */
interface CoreGroup {
  confirmed: Promise<void>;
  sink: SendSink;
  tags: number[];
  subjects: string[];
  /** Index-aligned with `tags` while tracing records; else empty. */
  spans: Span[];
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
    return await this.#send(ev, span);
  }

  /** Resolves after this event-loop turn's I/O: what is sent then shares one socket write (`send`). */
  turn(): Promise<void> {
    return this.nats.nextTurn();
  }

  /**
   * Hands one event to NATS now, in the caller's synchronous run: a batch waits
   * for one `turn()` and then sends all its items in order, with no turn wait
   * and no promise of their own each. The outcome goes to `sink` under `tag`:
   * later for a JetStream publish (its ack) and a core one (the turn's ping,
   * shared by every core publish of the run), at once for a core publish NATS
   * refused outright. Returns true for a JetStream publish, whose ack counts
   * against the caller's window until it is reported.
   */
  send(ev: OutboundEvent, parent: TraceContext | undefined, sink: SendSink, tag: number): boolean {
    const span = this.#span("publish", SpanKind.PRODUCER, ev, parent);
    if (this.nats.streamIndex.find(ev.subject) !== undefined) {
      this.#send(ev, span).then(
        (result) => sink.settled(tag, result, true),
        (err: GatewayError) => sink.settled(tag, err, true),
      );
      return true;
    }
    let confirmed: Promise<void>;
    try {
      confirmed = this.#core(ev);
    } catch (err) {
      const mapped = this.#error(err, "publish", ev.subject);
      endSpan(span, mapped);
      this.metrics?.publish("core", mapped.status);
      sink.settled(tag, mapped, false);
      return false;
    }
    let group = this.#group;
    if (group === undefined || group.confirmed !== confirmed || group.sink !== sink) {
      const g: CoreGroup = (group = this.#group = { confirmed, sink, tags: [], subjects: [], spans: [] });
      confirmed.then(
        () => this.#settleCore(g),
        (err: unknown) => this.#settleCore(g, err),
      );
    }
    group.tags.push(tag);
    group.subjects.push(ev.subject);
    if (span !== NO_SPAN) group.spans.push(span);
    return false;
  }

  #group: CoreGroup | undefined;

  #settleCore(g: CoreGroup, err?: unknown): void {
    if (this.#group === g) this.#group = undefined;
    const { tags, subjects, spans, sink } = g;
    if (err === undefined) {
      this.metrics?.publish("core", "ok", tags.length);
      for (const span of spans) endSpan(span);
      for (let i = 0; i < tags.length; i++) sink.settled(tags[i]!, { subject: subjects[i]! }, false);
      return;
    }
    for (let i = 0; i < tags.length; i++) {
      const mapped = this.#error(err, "publish", subjects[i]!);
      if (spans.length > 0) endSpan(spans[i]!, mapped);
      this.metrics?.publish("core", mapped.status);
      sink.settled(tags[i]!, mapped, false);
    }
  }

  /** Sends `ev` (JetStream when a stream captures it, else core); one reaction per event maps its outcome. */
  #send(ev: OutboundEvent, span: Span): Promise<PublishResult> {
    const stream = this.nats.streamIndex.find(ev.subject);
    const kind = stream === undefined ? "core" : "jetstream";
    const op = stream === undefined ? "publish" : "jetstream";
    let sent: Promise<PubAck | void>;
    try {
      sent = stream === undefined ? this.#core(ev) : this.#jetstream(ev);
    } catch (err) {
      sent = Promise.reject(err);
    }
    return sent.then(
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
