/**
 * Traces end to end (issue 12): with the real OpenTelemetry SDK (in-memory
 * exporter), one trace spans the HTTP publish, the NATS message, the SSE push
 * and the webhook delivery; without an SDK the caller's context passes through
 * unchanged.
 */
import { SpanKind } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { collector, natsConnect } from "../support/nats.js";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { startSink, type Sink } from "../support/sink.js";
import { rawSse } from "../support/sse.js";
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
    const server = one(SpanKind.SERVER);
    const producer = one(SpanKind.PRODUCER);
    const consumer = one(SpanKind.CONSUMER);
    const client = one(SpanKind.CLIENT);
    for (const s of [server, producer, consumer, client]) expect(s.spanContext().traceId).toBe(TRACE_ID);

    expect(server.name).toBe("POST /v1/publish/:subject");
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.attributes).toMatchObject({ "http.request.method": "POST", "http.route": "/v1/publish/:subject", "http.response.status_code": 201, "url.path": "/v1/publish/traced.order" });

    expect(producer.name).toBe("publish traced.order");
    expect(producer.parentSpanContext?.spanId).toBe(id(server));
    expect(producer.attributes).toEqual({
      "messaging.system": "nats",
      "messaging.destination.name": "traced.order",
      "messaging.operation.name": "publish",
      "messaging.operation.type": "send",
      "messaging.message.body.size": 7,
      "messaging.message.id": "trace-1",
      "natsgate.stream": "TRACED",
      "natsgate.stream.seq": 1,
    });

    // The message carried the PRODUCER's context; the fan-out and the webhook continue from it.
    expect(consumer.name).toBe("process traced.order");
    expect(consumer.parentSpanContext?.spanId).toBe(id(producer));
    expect(consumer.attributes).toMatchObject({ "messaging.system": "nats", "messaging.operation.type": "process", "natsgate.subscribers": 1, "natsgate.stream.seq": 1 });
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

  it("trace - log lines about a message name its trace id (a dead-lettered webhook event)", async () => {
    sink.script("/refuse", () => ({ status: 400 }));
    expect((await gw.fetch("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "refuser", subjects: ["traced.refused"], url: `${sink.url}/refuse` }) })).status).toBe(201);
    expect((await gw.fetch("/v1/publish/traced.refused", { method: "POST", headers: { "content-type": "application/json", traceparent: TRACEPARENT }, body: "{}" })).status).toBe(201);
    await expect.poll(() => logs.find((l) => l.msg === "webhook event dead-lettered")).toMatchObject({ level: "warn", webhook: "refuser", traceId: TRACE_ID });
  });
});
