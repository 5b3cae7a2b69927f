/** `GET /metrics` (issue 12, item 5): what operators scrape, with bounded labels. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectProcessMetrics } from "../../src/node/process-metrics.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { startSink, type Sink } from "../support/sink.js";
import { rawSse } from "../support/sse.js";
import { wsClient } from "../support/ws.js";

const METRICS_TOKEN = "scrape-token-0123456789";

/** The value of one series, by its exact text (`name{labels}`), or undefined. */
function series(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe("metrics", () => {
  let server: NatsServer;
  let gw: TestGateway;
  let sink: Sink;
  beforeAll(async () => {
    server = await NatsServer.start();
    sink = await startSink();
    gw = await startGateway(server.url, {
      jetstream: { streams: [{ name: "MET", subjects: ["met.stored.>"] }] },
      webhooks: { allowPrivateNetworks: true },
      auth: { mode: "required", clients: [{ name: "svc", token: "svc-token-0123456789abcdef", publish: { allow: ["met.>"] }, subscribe: { allow: ["met.>"] }, admin: true }, { name: "reader", token: "reader-token-0123456789abcdef", subscribe: { allow: ["met.>"] } }] },
      metrics: { token: METRICS_TOKEN },
    });
    collectProcessMetrics(gw.app.metrics.registry);
  });
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await server?.cleanup();
  });
  const auth = { authorization: "Bearer svc-token-0123456789abcdef", "content-type": "application/json" };
  const scrape = async () => {
    const res = await gw.fetch("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return res.text();
  };

  it("metrics - behind metrics.token when set: 401 without it or with another", async () => {
    expect((await gw.fetch("/metrics")).status).toBe(401);
    expect((await gw.fetch("/metrics", { headers: { authorization: "Bearer svc-token-0123456789abcdef" } })).status).toBe(401);
    await scrape();
  });

  it("metrics - requests by route template, publishes by kind and outcome, batches, open streams, NATS state, webhooks; no subject or id as a label", async () => {
    const hook = await gw.fetch("/v1/webhooks", { method: "POST", headers: auth, body: JSON.stringify({ id: "metered", subjects: ["met.stored.>"], url: `${sink.url}/metered` }) });
    expect(hook.status).toBe(201);
    const sse = await rawSse(`${gw.url}/v1/subscribe?subject=met.stored.>&access_token=svc-token-0123456789abcdef`);
    const ws = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`, { authorization: "Bearer svc-token-0123456789abcdef" });
    for (let i = 0; i < 3; i++) expect((await gw.fetch("/v1/publish/met.core.secret-order-1", { method: "POST", headers: auth, body: "{}" })).status).toBe(202);
    expect((await gw.fetch("/v1/publish/met.stored.secret-order-2", { method: "POST", headers: auth, body: "{}" })).status).toBe(201);
    expect((await gw.fetch("/v1/publish/other.subject", { method: "POST", headers: auth, body: "{}" })).status).toBe(403);
    const batch = await gw.fetch("/v1/publish", { method: "POST", headers: { ...auth, "content-type": "application/x-ndjson" }, body: '{"subject":"met.core.b","data":1}\n{"subject":"met.core.b","data":2}' });
    expect(batch.status).toBe(200);
    await sink.waitFor("/metered", 1);

    const text = await scrape();
    expect(series(text, 'natsgate_http_requests_total{route="/v1/publish/:subject",method="POST",status="2xx"}')).toBe(4);
    expect(series(text, 'natsgate_http_requests_total{route="/v1/publish/:subject",method="POST",status="4xx"}')).toBe(1);
    expect(series(text, 'natsgate_publishes_total{kind="core",outcome="ok"}')).toBe(5);
    expect(series(text, 'natsgate_publishes_total{kind="jetstream",outcome="ok"}')).toBe(1);
    expect(series(text, "natsgate_batch_items_count")).toBe(1);
    expect(series(text, "natsgate_batch_items_sum")).toBe(2);
    expect(series(text, "natsgate_sse_connections")).toBe(1);
    expect(series(text, "natsgate_ws_connections")).toBe(1);
    expect(series(text, "natsgate_nats_connected")).toBe(1);
    expect(series(text, "natsgate_nats_stalled")).toBe(0);
    expect(series(text, "natsgate_nats_reconnects_total")).toBe(0);
    await expect.poll(async () => series(await scrape(), 'natsgate_webhook_deliveries_total{outcome="delivered"}')).toBe(1);
    expect(series(await scrape(), "natsgate_webhook_delivery_latency_seconds_count")).toBe(1);
    expect(series(text, "natsgate_dead_letters_total")).toBe(0);
    // Process metrics, event-loop lag among them.
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    // Bounded labels: no subject, client or webhook id ever becomes one.
    for (const raw of ["secret-order", "met.core", "met.stored", "svc", "metered", "other.subject"]) expect(text).not.toContain(`"${raw}`);
    sse.close();
    ws.close();
    await expect.poll(async () => series(await scrape(), "natsgate_sse_connections")).toBe(0);
  });

  it("stats - /v1/stats gives the console the numbers /metrics exports, as JSON", async () => {
    const sse = await rawSse(`${gw.url}/v1/subscribe?subject=met.>&access_token=svc-token-0123456789abcdef`);
    await expect.poll(async () => series(await scrape(), "natsgate_sse_connections")).toBe(1);
    const res = await gw.fetch("/v1/stats", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await scrape();
    expect(await res.json()).toEqual({
      nats: { state: "connected", reconnects: 0 },
      publishes: { ok: series(text, 'natsgate_publishes_total{kind="core",outcome="ok"}')! + series(text, 'natsgate_publishes_total{kind="jetstream",outcome="ok"}')!, failed: 0 },
      streams: { sse: 1, ws: 0 },
      webhooks: { delivered: 1, retrying: 0, deadLettered: 0, disabled: 0 },
      slowConsumers: 0,
    });
    sse.close();
  });

  it("stats - with metrics.token set: that token or an admin client; another client 403, none 401", async () => {
    const stats = (token?: string) => gw.fetch("/v1/stats", { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await stats("svc-token-0123456789abcdef")).status).toBe(200);
    const reader = await stats("reader-token-0123456789abcdef");
    expect(reader.status).toBe(403);
    expect((await reader.json()).detail).toBe("client reader needs admin permission");
    expect((await stats()).status).toBe(401);
    expect((await stats("wrong-token-0123456789abcdef")).status).toBe(401);
    // Reads through a client are audited like the other admin routes.
    expect(gw.audit.filter((r) => r.resource === "stats").map((r) => [r.client, r.outcome, r.status])).toEqual([
      ["svc", "ok", 200],
      ["reader", "denied", 403],
    ]);
  });

  it("stats - with auth off and metrics.token set only the metrics token opens it (the anonymous caller is no admin client)", async () => {
    const open = await startGateway(server.url, { metrics: { token: METRICS_TOKEN } });
    try {
      expect((await open.fetch("/metrics")).status).toBe(401);
      expect((await open.fetch("/v1/stats")).status).toBe(401);
      expect((await open.fetch("/v1/stats", { headers: { authorization: "Bearer anything-at-all-0123" } })).status).toBe(401);
      expect((await open.fetch("/v1/stats", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it("metrics - paths nothing serves share one route label, whatever they are", async () => {
    for (const path of ["/nope", "/v2/secret-order-9", "/v1/publish"]) await gw.fetch(path);
    const text = await scrape();
    expect(series(text, 'natsgate_http_requests_total{route="unmatched",method="GET",status="4xx"}')).toBe(2);
    expect(text).not.toContain('route="/*"');
    expect(text).not.toContain("secret-order-9");
  });
});
