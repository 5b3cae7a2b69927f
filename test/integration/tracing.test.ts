/**
 * Traces end to end (issue 12): with the real OpenTelemetry SDK (in-memory
 * exporter), one trace spans the HTTP publish, the NATS message, the SSE push
 * and the webhook delivery; without an SDK the caller's context passes through
 * unchanged, SSE, WebSocket and webhooks alike.
 */
import { propagation, SpanKind, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { collector, natsConnect } from "../support/nats.js";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { startSink, type Sink } from "../support/sink.js";
import { rawSse } from "../support/sse.js";
import { wsClient } from "../support/ws.js";
import { createLogger } from "../../src/logger.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
const TRACESTATE = "vendor=opaque,other=1";
const CONFIG = {
  jetstream: { streams: [{ name: "TRACED", subjects: ["traced.>"] }] },
  webhooks: { allowPrivateNetworks: true },
};

const parentOf = (traceparent: string | undefined) => traceparent?.split("-")[2];

describe("tracing with the OpenTelemetry SDK", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let server: NatsServer;
  let gw: TestGateway;
  let sink: Sink;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, CONFIG, { tracerProvider: provider });
    sink = await startSink();
  });
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await server?.cleanup();
    await provider.shutdown();
  });

  it("trace - one trace: HTTP SERVER span -> PRODUCER publish -> CONSUMER push to SSE and CLIENT webhook attempt; each egress carries its own span", async () => {
    const hook = await gw.fetch("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "traced", subjects: ["traced.>"], url: `${sink.url}/traced` }) });
    expect(hook.status).toBe(201);
    const sse = await rawSse(`${gw.url}/v1/subscribe?subject=traced.>`);
    exporter.reset();

    const res = await gw.fetch("/v1/publish/traced.order", {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: TRACEPARENT, tracestate: TRACESTATE, "idempotency-key": "trace-1" },
      body: '{"n":1}',
    });
    expect(res.status).toBe(201);
    const [delivered] = await sink.waitFor("/traced", 1);
    const text = await sse.until((t) => t.includes('"subject":"traced.order"'));
    sse.close();
    await expect.poll(() => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT).length).toBe(1);

    const spans = exporter.getFinishedSpans();
    const one = (kind: SpanKind) => {
      const found = spans.filter((s) => s.kind === kind);
      expect(found, SpanKind[kind]).toHaveLength(1);
      return found[0]!;
    };
    const id = (s: ReadableSpan) => s.spanContext().spanId;
    const serverSpan = one(SpanKind.SERVER);
    const producer = one(SpanKind.PRODUCER);
    const consumer = one(SpanKind.CONSUMER);
    const client = one(SpanKind.CLIENT);
    for (const s of [serverSpan, producer, consumer, client]) expect(s.spanContext().traceId).toBe(TRACE_ID);

    expect(serverSpan.name).toBe("POST /v1/publish/:subject");
    expect(serverSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(serverSpan.attributes).toMatchObject({ "http.request.method": "POST", "http.route": "/v1/publish/:subject", "http.response.status_code": 201, "url.path": "/v1/publish/traced.order" });

    expect(producer.name).toBe("publish traced.order");
    expect(producer.parentSpanContext?.spanId).toBe(id(serverSpan));
    expect(producer.attributes).toEqual({
      "messaging.system": "nats",
      "messaging.destination.name": "traced.order",
      "messaging.operation.name": "publish",
      "messaging.operation.type": "send",
      "messaging.message.body.size": 7,
      "messaging.message.id": "trace-1",
      "server.address": "127.0.0.1",
      "server.port": server.port,
      "natsgate.stream": "TRACED",
      "natsgate.stream.seq": 1,
    });

    // The message carried the PRODUCER's context; the fan-out and the webhook continue from it.
    expect(consumer.name).toBe("process traced.order");
    expect(consumer.parentSpanContext?.spanId).toBe(id(producer));
    expect(consumer.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.operation.type": "process",
      "messaging.message.id": "trace-1",
      "server.address": "127.0.0.1",
      "server.port": server.port,
      "natsgate.subscribers": 1,
      "natsgate.stream.seq": 1,
    });
    const envelope = JSON.parse(/^data: (.*)$/m.exec(text)![1]!);
    expect(parentOf(envelope.headers.traceparent)).toBe(id(consumer));
    expect(envelope.headers.tracestate).toBe(TRACESTATE);

    expect(client.name).toBe("POST");
    expect(client.parentSpanContext?.spanId).toBe(id(producer));
    expect(client.attributes).toMatchObject({ "http.request.method": "POST", "http.response.status_code": 200, "url.full": `${sink.url}/***`, "natsgate.webhook.id": "traced", "natsgate.webhook.attempt": 1 });
    // The sink's request continues the trace from the delivery span.
    expect(delivered!.headers.traceparent).toBe(`00-${TRACE_ID}-${id(client)}-01`);
    expect(delivered!.headers.tracestate).toBe(TRACESTATE);
  });

  it("trace - a message published straight to NATS with Go's header casing (Traceparent) is continued; a client's long message id is capped in the span", async () => {
    const sse = await rawSse(`${gw.url}/v1/subscribe?subject=traced.go`);
    exporter.reset();
    const nc = await natsConnect(server.url);
    const h = natsHeaders();
    h.set("Traceparent", TRACEPARENT);
    nc.publish("traced.go", "{}", { headers: h });
    await nc.flush();
    await sse.until((t) => t.includes('"subject":"traced.go"'));
    sse.close();
    await nc.close();
    const consumer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)!;
    expect([consumer.spanContext().traceId, consumer.parentSpanContext?.spanId]).toEqual([TRACE_ID, CALLER_SPAN]);
    exporter.reset();
    expect((await gw.fetch("/v1/publish/traced.long", { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "k".repeat(5_000) }, body: "{}" })).status).toBe(201);
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(producer.attributes["messaging.message.id"]).toBe("k".repeat(256));
  });
});

describe("tracing with the OpenTelemetry SDK: WebSocket frames, baggage, failed publishes", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let server: NatsServer;
  let gw: TestGateway;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, CONFIG, { tracerProvider: provider });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
    await provider.shutdown();
  });

  it("trace - a WebSocket msg frame carries the CONSUMER span's traceparent, and the caller's tracestate and baggage", async () => {
    const ws = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`);
    ws.send({ op: "sub", sid: "t", subject: "traced.ws" });
    ws.send({ op: "ping" });
    await ws.next((f) => f.op === "pong");
    exporter.reset();
    const baggage = "userId=alice";
    const res = await gw.fetch("/v1/publish/traced.ws", { method: "POST", headers: { "content-type": "application/json", traceparent: TRACEPARENT, tracestate: TRACESTATE, baggage }, body: "{}" });
    expect(res.status).toBe(201);
    const msg = await ws.next((f) => f.op === "msg");
    ws.close();
    const consumer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)!;
    expect(consumer.spanContext().traceId).toBe(TRACE_ID);
    expect(msg.headers).toEqual({ "Content-Type": "application/json", traceparent: `00-${TRACE_ID}-${consumer.spanContext().spanId}-01`, tracestate: TRACESTATE, baggage });
  });

  it("trace - a publish JetStream refuses ends its PRODUCER span as an error with error.type", async () => {
    exporter.reset();
    const res = await gw.fetch("/v1/publish/traced.expect", { method: "POST", headers: { "content-type": "application/json", "expect-last-sequence": "999" }, body: "{}" });
    expect(res.status).toBe(412);
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(producer.status.code).toBe(2); // ERROR
    expect(producer.attributes["error.type"]).toBe("PreconditionFailedError");
  });
});

/** A propagator that counts its calls and hands them to W3C trace context and baggage. */
class CountingPropagator implements TextMapPropagator {
  readonly #inner = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
  injected = 0;
  extracted = 0;
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.injected++;
    this.#inner.inject(context, carrier, setter);
  }
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    this.extracted++;
    return this.#inner.extract(context, carrier, getter);
  }
  fields(): string[] {
    return this.#inner.fields();
  }
}

describe("tracing through a global propagator (as the SDK registers, honouring OTEL_PROPAGATORS)", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const counting = new CountingPropagator();
  let server: NatsServer;
  let gw: TestGateway;
  beforeAll(async () => {
    propagation.setGlobalPropagator(counting);
    server = await NatsServer.start();
    gw = await startGateway(server.url, CONFIG, { tracerProvider: provider });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
    await provider.shutdown();
    propagation.disable();
  });

  it("trace - extraction and injection go through @opentelemetry/api's propagation, and the trace still continues", async () => {
    const nc = await natsConnect(server.url);
    const sub = await collector(nc, "traced.global");
    exporter.reset();
    const [injected, extracted] = [counting.injected, counting.extracted];
    const res = await gw.fetch("/v1/publish/traced.global", { method: "POST", headers: { "content-type": "application/json", traceparent: TRACEPARENT }, body: "{}" });
    expect(res.status).toBe(201);
    const [msg] = await sub.next(1);
    await nc.close();
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(msg!.headers!.get("traceparent")).toBe(`00-${TRACE_ID}-${producer.spanContext().spanId}-01`);
    expect(counting.extracted).toBeGreaterThan(extracted);
    expect(counting.injected).toBeGreaterThan(injected);
  });
});

describe("tracing without an SDK", () => {
  const logs: Record<string, unknown>[] = [];
  let server: NatsServer;
  let gw: TestGateway;
  let sink: Sink;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, CONFIG, { logger: createLogger("info", (line) => logs.push(JSON.parse(line))) });
    sink = await startSink();
  });
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await server?.cleanup();
  });

  it("trace - the caller's traceparent, tracestate and baggage pass through unchanged to NATS, SSE and webhooks", async () => {
    expect((await gw.fetch("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "plain", subjects: ["traced.>"], url: `${sink.url}/plain` }) })).status).toBe(201);
    const nc = await natsConnect(server.url);
    const sub = await collector(nc, "traced.>");
    const sse = await rawSse(`${gw.url}/v1/subscribe?subject=traced.>`);
    const ws = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`);
    ws.send({ op: "sub", sid: "p", subject: "traced.plain" });
    ws.send({ op: "ping" });
    await ws.next((f) => f.op === "pong");
    const baggage = "userId=alice,  tenant=acme";
    // Not in canonical form (spaces, flags ff): it must not be re-serialised on the way (review).
    const traceparent = `00-${TRACE_ID}-${CALLER_SPAN}-ff`;
    const tracestate = "vendor=opaque, other=1";
    expect((await gw.fetch("/v1/publish/traced.plain", { method: "POST", headers: { "content-type": "application/json", traceparent, tracestate, baggage }, body: "{}" })).status).toBe(201);
    const [msg] = await sub.next(1);
    expect([msg!.headers!.get("traceparent"), msg!.headers!.get("tracestate"), msg!.headers!.get("baggage")]).toEqual([traceparent, tracestate, baggage]);
    const text = await sse.until((t) => t.includes('"subject":"traced.plain"'));
    expect(JSON.parse(/^data: (.*)$/m.exec(text)![1]!).headers).toEqual({ "Content-Type": "application/json", traceparent, tracestate, baggage });
    const [req] = await sink.waitFor("/plain", 1);
    expect([req!.headers.traceparent, req!.headers.tracestate, req!.headers.baggage]).toEqual([traceparent, tracestate, baggage]);
    const frame = await ws.next((f) => f.op === "msg");
    expect(frame.headers).toEqual({ "Content-Type": "application/json", traceparent, tracestate, baggage });
    ws.close();
    sse.close();
    await nc.close();
  });

  it("trace - a message with an oversized tracestate or no valid traceparent still reaches the webhook, without those headers", async () => {
    const nc = await natsConnect(server.url);
    const big = natsHeaders();
    big.set("traceparent", TRACEPARENT);
    big.set("tracestate", "vendor=" + "x".repeat(50_000));
    await nc.publish("traced.big", "{}", { headers: big });
    const orphan = natsHeaders();
    orphan.set("tracestate", "vendor=opaque");
    orphan.set("baggage", "k=v");
    await nc.publish("traced.orphan", "{}", { headers: orphan });
    await nc.flush();
    const reqs = await sink.waitFor("/plain", 3);
    const byBody = (subject: string) => reqs.find((r) => JSON.parse(r.body).subject === subject)!;
    expect([byBody("traced.big").headers.traceparent, byBody("traced.big").headers.tracestate]).toEqual([TRACEPARENT, undefined]);
    expect([byBody("traced.orphan").headers.traceparent, byBody("traced.orphan").headers.tracestate, byBody("traced.orphan").headers.baggage]).toEqual([undefined, undefined, undefined]);
    await nc.close();
  });

  it("trace - a published baggage or tracestate Node will not send (non-ASCII, control characters) is left off the webhook request, which is delivered", async () => {
    const items = [
      { subject: "traced.euro", data: {}, headers: { traceparent: TRACEPARENT, baggage: "k=€" } },
      { subject: "traced.ctl", data: {}, headers: { traceparent: TRACEPARENT, tracestate: "a=\u0001" } },
    ];
    const res = await gw.fetch("/v1/publish", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(items) });
    expect((await res.json()).results.map((r: { status: number }) => r.status)).toEqual([201, 201]);
    const reqs = await sink.waitFor("/plain", 5);
    const bySubject = (subject: string) => reqs.find((r) => JSON.parse(r.body).subject === subject)!.headers;
    expect([bySubject("traced.euro").traceparent, bySubject("traced.euro").baggage]).toEqual([TRACEPARENT, undefined]);
    expect([bySubject("traced.ctl").traceparent, bySubject("traced.ctl").tracestate]).toEqual([TRACEPARENT, undefined]);
  });

  it("trace - log lines about a message name its trace id (a dead-lettered webhook event); a sink refusing everything writes one line, not one per event", async () => {
    sink.script("/refuse", () => ({ status: 400 }));
    expect((await gw.fetch("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "refuser", subjects: ["traced.refused"], url: `${sink.url}/refuse` }) })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      expect((await gw.fetch("/v1/publish/traced.refused", { method: "POST", headers: { "content-type": "application/json", traceparent: TRACEPARENT }, body: `{"n":${i}}` })).status).toBe(201);
    }
    // Every event is kept where operators look for it; the log says it once.
    await expect.poll(async () => (await (await gw.fetch("/v1/dead-letters?webhook=refuser")).json()).deadLetters.length).toBe(3);
    expect(logs.filter((l) => l.msg === "webhook event dead-lettered")).toEqual([expect.objectContaining({ level: "warn", webhook: "refuser", traceId: TRACE_ID })]);
  });
});
