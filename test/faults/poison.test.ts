/**
 * Fault: a poison event — JSON nested 5,000 levels deep, published straight to
 * NATS so the gateway's depth limit never sees it — on a core subject and on a
 * stream subject, with SSE, WebSocket and webhook consumers attached. The next
 * ordinary event still reaches every consumer within 1 s, the gateway's
 * connection keeps working, and the webhook does not retry the poison forever.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect } from "../support/nats.js";
import { startSink, type Sink } from "../support/sink.js";
import { sseClient, type SseClient } from "../support/sse.js";
import { wsClient, type WsClient } from "../support/ws.js";
import { report, startGatewayProcess, until, type GatewayChild } from "./harness.js";

const DEPTH = 5_000;
const POISONS: Record<string, string> = {
  arrays: "[".repeat(DEPTH) + "]".repeat(DEPTH),
  objects: '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH),
  mixed: '[{"a":'.repeat(DEPTH / 2) + "0" + "}]".repeat(DEPTH / 2),
};
const LIMIT_MS = 1_000;

interface Timed {
  subject: string;
  at: number;
}

describe("fault: a poison event on core and stream subjects", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let sink: Sink;
  let gw: GatewayChild;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
    js = jetstream(nc);
    sink = await startSink();
    gw = await startGatewayProcess(
      {
        jetstream: { streams: [{ name: "PZ", subjects: ["ps.>"] }] },
        webhooks: { allowPrivateNetworks: true, endpoints: [{ id: "pz", subjects: ["ps.>"], url: `${sink.url}/pz`, timeoutMs: 2_000, retry: { schedule: [100, 200, 400] } }] },
      },
      server.url,
      { logLevel: "info", waitForLog: "webhooks ready" },
    );
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await gw?.kill();
    await nc?.close();
    await sink?.close();
    await server?.cleanup();
  });

  /** An SSE client that timestamps each event's subject on arrival. */
  const timedSse = (subject: string) => {
    const client: SseClient = sseClient(`${gw.url}/v1/subscribe?subject=${encodeURIComponent(subject)}`);
    open.push(client);
    const seen: Timed[] = [];
    client.es.addEventListener("message", (e) => seen.push({ subject: JSON.parse(e.data).subject, at: Date.now() }));
    return { client, seen };
  };

  it("the next event reaches SSE, WebSocket and the webhook within 1 s of each poison; the connection keeps working", async () => {
    const sseCore = timedSse("pc.>");
    const sseStream = timedSse("ps.>");
    await Promise.all([sseCore.client.opened, sseStream.client.opened]);
    const ws: WsClient = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`);
    open.push(ws);
    const wsSeen: Timed[] = [];
    ws.ws.on("message", (data) => {
      const f = JSON.parse(data.toString());
      if (f.op === "msg") wsSeen.push({ subject: f.subject, at: Date.now() });
    });
    ws.send({ op: "sub", sid: "core", subject: "pc.>" });
    ws.send({ op: "sub", sid: "stream", subject: "ps.>" });
    ws.send({ op: "ping" });
    await ws.next((f) => f.op === "pong");
    const hookSeen = (): Timed[] => sink.on("/pz").map((r) => ({ subject: JSON.parse(r.body).subject, at: r.at }));
    const consumers: Record<string, () => Timed[]> = {
      "sse core": () => sseCore.seen,
      "sse stream": () => sseStream.seen,
      "ws core": () => wsSeen.filter((t) => t.subject.startsWith("pc.")),
      "ws stream": () => wsSeen.filter((t) => t.subject.startsWith("ps.")),
      webhook: hookSeen,
    };
    const has = (name: string, subject: string) => consumers[name]!().find((t) => t.subject === subject);

    // Every consumer live before the poison: core subjects have no replay, so publish until all saw one.
    await until(
      "every consumer live",
      async () => {
        nc.publish("pc.warm", "{}");
        await js.publish("ps.warm", "{}");
        return Object.keys(consumers).every((c) => has(c, c.includes("core") ? "pc.warm" : "ps.warm")) ? true : undefined;
      },
      10_000,
      100,
    );

    const latencies: Record<string, Record<string, number>> = {};
    for (const [kind, poison] of Object.entries(POISONS)) {
      nc.publish(`pc.poison.${kind}`, poison);
      await js.publish(`ps.poison.${kind}`, poison);
      const sentAt = Date.now();
      nc.publish(`pc.next.${kind}`, JSON.stringify({ kind }));
      await js.publish(`ps.next.${kind}`, JSON.stringify({ kind }));
      await until(
        `next event after the ${kind} poison everywhere`,
        () => (Object.keys(consumers).every((c) => has(c, `${c.includes("core") ? "pc" : "ps"}.next.${kind}`)) ? true : undefined),
        LIMIT_MS + 4_000,
        5,
      ).catch(() => {});
      latencies[kind] = Object.fromEntries(
        Object.keys(consumers).map((c) => [c, (has(c, `${c.includes("core") ? "pc" : "ps"}.next.${kind}`)?.at ?? Infinity) - sentAt]),
      );
    }

    // The gateway's one connection still reads and writes: a JetStream publish through it is acknowledged.
    const t = Date.now();
    const after = await fetch(`${gw.url}/v1/publish/ps.after`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", signal: AbortSignal.timeout(5_000) });
    const publishAfterMs = Date.now() - t;
    const readyz = (await fetch(`${gw.url}/readyz`)).status;
    // The poison is delivered (as text) or dead-lettered, not retried forever: the webhook's
    // consumer settles with nothing pending or unacknowledged.
    const jsm = await jetstreamManager(nc);
    const hookConsumer = (await jsm.consumers.list("PZ").next()).find((c) => c.name.startsWith("natsgate_wh_pz"))!.name;
    const settled = await until(
      "the webhook consumer settled",
      async () => {
        const info = await jsm.consumers.info("PZ", hookConsumer);
        return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
      },
      10_000,
      100,
    ).catch(() => false);
    const poisonHook = Object.fromEntries(Object.keys(POISONS).map((k) => [k, sink.on("/pz").filter((r) => JSON.parse(r.body).subject === `ps.poison.${k}`).length]));
    const deadLetters = (await (await fetch(`${gw.url}/v1/dead-letters?webhook=pz`)).json()).deadLetters as { event?: { subject?: string } }[];
    const poisonDelivered = Object.fromEntries(
      Object.keys(POISONS).map((k) => [k, Object.fromEntries(Object.keys(consumers).map((c) => [c, Boolean(has(c, `${c.includes("core") ? "pc" : "ps"}.poison.${k}`))]))]),
    );

    report("poison", {
      depth: DEPTH,
      nextEventLatencyMs: latencies,
      publishAfterStatus: after.status,
      publishAfterMs,
      readyz,
      gatewayAlive: gw.alive(),
      poisonDelivered,
      webhookPoisonRequests: poisonHook,
      deadLetters: deadLetters.length,
      webhookConsumerSettled: settled,
    });

    for (const [kind, byConsumer] of Object.entries(latencies)) {
      for (const [consumer, ms] of Object.entries(byConsumer)) expect(ms, `${consumer} after the ${kind} poison`).toBeLessThanOrEqual(LIMIT_MS);
    }
    expect(gw.alive()).toBe(true);
    expect(after.status).toBe(201);
    expect(readyz).toBe(200);
    expect(settled, "webhook consumer: nothing pending or unacknowledged").toBe(true);
    // At most one retry of a poison (at least once delivery), unless it went to the dead letters.
    for (const [kind, n] of Object.entries(poisonHook)) {
      const dead = deadLetters.some((d) => d.event?.subject === `ps.poison.${kind}`);
      expect(dead || (n >= 1 && n <= 2), `webhook: ${kind} poison delivered ${n} times, dead-lettered: ${dead}`).toBe(true);
    }
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
  }, 60_000);
});
