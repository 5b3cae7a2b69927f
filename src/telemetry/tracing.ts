/**
 * Traces through the gateway with `@opentelemetry/api`: a PRODUCER span per
 * publish, a CONSUMER span per message a feed fans out to SSE and WebSocket
 * clients, a CLIENT span per webhook attempt, each the child of the context
 * the message carries, and each re-injected into what leaves the gateway.
 *
 * Trace context goes through `@opentelemetry/api`'s propagation once an SDK has
 * registered a global propagator (it honours OTEL_PROPAGATORS; W3C trace context and
 * baggage by default). Without one the global propagator is a no-op and would drop
 * `traceparent`, so the gateway's own W3C propagator stands in: through the API's
 * non-recording spans it passes the caller's context on unchanged. Contexts are
 * passed explicitly, so no global context manager is needed (Workers has none).
 */
import { INVALID_SPAN_CONTEXT, isSpanContextValid, propagation, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapGetter, type TextMapPropagator, type TextMapSetter, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from "@opentelemetry/semantic-conventions";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { Match, type MsgHdrs } from "@nats-io/nats-core";
import { VERSION } from "../version.js";
import type { HeaderSource } from "../http/header-source.js";

/** Messaging attributes (OpenTelemetry semantic conventions, still incubating there, so spelled here). */
export const ATTR = {
  system: "messaging.system",
  destination: "messaging.destination.name",
  operationName: "messaging.operation.name",
  operationType: "messaging.operation.type",
  messageId: "messaging.message.id",
  bodySize: "messaging.message.body.size",
  consumerGroup: "messaging.consumer.group.name",
} as const;

const w3c = new W3CTraceContextPropagator();

/** Longest attribute value taken from client input (a message id): spans wait in the SDK's queue. */
export const MAX_ATTRIBUTE_CHARS = 256;

/** Where a carrier's trace headers are written to. */
type Carrier = MsgHdrs | Headers | Record<string, string>;
/** Where they are read from: also a request's headers however the runtime holds them. */
type Source = Carrier | HeaderSource;

const isMsgHdrs = (c: Source): c is MsgHdrs => typeof (c as MsgHdrs).values === "function" && typeof (c as MsgHdrs).has === "function" && !(c instanceof Headers);
/** Asked only of what is not `MsgHdrs` (which has a `get` too): a Web `Headers` or another `HeaderSource`, not a record. */
const isHeaderSource = (c: Source): c is HeaderSource => typeof (c as HeaderSource).get === "function";

const getter: TextMapGetter<Source> = {
  keys: (c) => (isMsgHdrs(c) ? c.keys() : isHeaderSource(c) ? [...c].map(([k]) => k) : Object.keys(c)),
  // Any case on NATS (Go's propagation.HeaderCarrier writes Traceparent); the first of duplicates.
  get: (c, key) => (isMsgHdrs(c) ? (c.has(key, Match.IgnoreCase) ? c.get(key, Match.IgnoreCase) : undefined) : isHeaderSource(c) ? c.get(key) ?? undefined : c[key]),
};

const setter: TextMapSetter<Carrier> = {
  set: (c, key, value) => {
    // An unchanged value (no SDK: the caller's own context) is left where it is.
    if (getter.get(c, key) === value) return;
    if (c instanceof Headers) c.set(key, value);
    else if (isMsgHdrs(c)) c.set(key, value, Match.IgnoreCase);
    else c[key] = value;
  },
};

/** What a feature holds instead of a span when none can be recorded: ending it, or setting attributes on it, does nothing. */
export const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Options for `Tracing`. */
export interface TracingOptions {
  /** `host:port` of the NATS server the gateway is connected to, for `server.address`/`server.port`. */
  natsServer?: () => string | undefined;
}

/** The tracer and the propagation the gateway's features share. */
export class Tracing {
  readonly tracer: Tracer;
  /**
   * False when no span can ever be recorded: the global provider with no SDK behind
   * it. Per-message spans are then not built at all (`NO_SPAN`): a no-op span still
   * costs a context extraction, its attributes and its name on every message, and
   * without a recorded span nothing is injected, so what a message carries is the
   * same either way.
   */
  readonly recording: boolean;
  readonly #propagator: TextMapPropagator;
  readonly #natsServer: () => string | undefined;

  /** `provider`: where spans go; the global one (a no-op without an SDK) by default. */
  constructor(provider: TracerProvider = trace.getTracerProvider(), { natsServer = () => undefined }: TracingOptions = {}) {
    this.tracer = provider.getTracer("natsgate", VERSION);
    // Decided once, like the propagator: the global proxy without a delegate has no SDK behind it.
    this.recording = !(provider instanceof ProxyTracerProvider && provider.getDelegateTracer("natsgate", VERSION) === undefined);
    // Decided once: an SDK registers its propagator before the gateway is built.
    this.#propagator = propagation.fields().length > 0 ? propagation : w3c;
    this.#natsServer = natsServer;
  }

  /** The trace context a carrier holds (ROOT when it holds none). */
  extract(carrier: Source | undefined, base: Context = ROOT_CONTEXT): Context {
    return carrier ? this.#propagator.extract(base, carrier, getter) : base;
  }

  /**
   * Writes `span`'s context into a carrier as `traceparent`/`tracestate`. A span
   * that is not recorded (no SDK, or not sampled) writes nothing: the context
   * the carrier already holds goes on exactly as it came, not re-serialised.
   */
  inject(span: Span, carrier: Carrier): void {
    if (!span.isRecording()) return;
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
  }

  /** Starts a span of `kind` under `parent`. Attribute values a client controls are capped at MAX_ATTRIBUTE_CHARS. */
  start(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind, attributes }, parent);
  }

  /**
   * Starts a messaging span (`messaging.system=nats` and the destination) of `kind`;
   * a recorded one also gets the NATS server's `server.address`/`server.port`
   * (only then: a no-op span should cost nothing more).
   */
  startMessaging(name: string, kind: SpanKind, parent: Context, destination: string, attributes: Attributes): Span {
    const span = this.start(name, kind, parent, { [ATTR.system]: "nats", [ATTR.destination]: destination, ...attributes });
    if (span.isRecording()) {
      const server = this.#natsServer();
      const colon = server ? server.lastIndexOf(":") : -1;
      if (server && colon > 0) span.setAttributes({ [ATTR_SERVER_ADDRESS]: server.slice(0, colon).replace(/^\[|\]$/g, ""), [ATTR_SERVER_PORT]: Number(server.slice(colon + 1)) });
    }
    return span;
  }
}

/** W3C Trace Context: a forwarder may drop a `tracestate` longer than this (characters). */
export const MAX_TRACESTATE_CHARS = 512;
/** W3C Baggage: the most a propagator must carry (bytes); longer is dropped, not cut. */
export const MAX_BAGGAGE_BYTES = 8192;
// Version 00 is exactly this; a later version may append fields. Version ff and all-zero ids are invalid.
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const TRACEPARENT_LATER = /^(?!00|ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}-/;

/**
 * The trace headers (lower-case names, as envelopes keep them) fit to send on to
 * another service: none without a valid `traceparent` (W3C: `tracestate` means
 * nothing without it), and `tracestate` and `baggage` only within the W3C limits,
 * so a message with a huge header cannot make every webhook request fail.
 */
export function forwardableTraceHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const traceparent = headers?.traceparent;
  if (!traceparent || !(TRACEPARENT.test(traceparent) || TRACEPARENT_LATER.test(traceparent)) || !sendable(traceparent, MAX_TRACESTATE_CHARS)) return {};
  const out: Record<string, string> = { traceparent };
  const { tracestate, baggage } = headers;
  if (tracestate && sendable(tracestate, MAX_TRACESTATE_CHARS)) out.tracestate = tracestate;
  if (baggage && sendable(baggage, MAX_BAGGAGE_BYTES)) out.baggage = baggage;
  return out;
}

// Both formats are printable ASCII (baggage percent-encodes the rest), so characters count as
// bytes; anything else (a control character, "€") would make Node refuse the whole request.
const sendable = (value: string, max: number) => value.length <= max && /^[\x20-\x7e]*$/.test(value);

/** `{ traceId }` from a carrier's `traceparent`, for a log line about that message; `{}` when it has none. */
export function traceFields(carrier: Carrier | undefined): { traceId?: string } {
  if (!carrier) return {};
  const span = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, carrier, getter));
  return span && isSpanContextValid(span) ? { traceId: span.traceId } : {};
}

/** Ends `span`, marking it failed when `err` is given. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    // The error's class: few values, as error.type asks (e.g. SchemaViolationError, AckTimeoutError).
    span.setAttribute(ATTR_ERROR_TYPE, err instanceof Error ? err.name : typeof err);
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

export { SpanKind };
