/**
 * Per-client bounds that hold without `rateLimit` (issue 11, item 6): open
 * streams and subscriptions per client, and frames a WebSocket may have
 * unanswered before the gateway stops reading it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { rawSse } from "../support/sse.js";
import { wsClient, type WsClient } from "../support/ws.js";
import type { WsSession } from "../../src/subscribe/ws-session.js";

const MAX_INFLIGHT = 16;
const MAX_INFLIGHT_BYTES = 128 * 1024;

describe("client limits without rateLimit", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "LIMITS", subjects: ["lim.stored.>"] }] },
    limits: { maxStreamsPerClient: 3, maxSubscriptionsPerClient: 4 },
    ws: { maxInflightFrames: MAX_INFLIGHT, maxInflightBytes: MAX_INFLIGHT_BYTES },
  });
  const clients: WsClient[] = [];
  const closers: (() => void)[] = [];
  const open = async () => {
    const c = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`);
    clients.push(c);
    return c;
  };
  const sse = async (subject: string) => {
    const s = await rawSse(`${f.gw.url}/v1/subscribe?subject=${subject}`);
    closers.push(s.close);
    return s;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const close of closers.splice(0)) close();
    await expect.poll(() => f.gw.app.gateway.streamSlots.count("ip:127.0.0.1")).toBe(0);
    await expect.poll(() => f.gw.app.gateway.subscriptionSlots.count("ip:127.0.0.1")).toBe(0);
  });

  it("limits - sockets and SSE streams share limits.maxStreamsPerClient: the next one gets 429 with the detail", async () => {
    await open();
    expect((await sse("lim.a")).res.status).toBe(200);
    expect((await sse("lim.b")).res.status).toBe(200);
    const refused = await f.gw.fetch("/v1/subscribe?subject=lim.c");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await refused.json()).detail).toBe("at most 3 concurrent streams per client");
    await expect(open()).rejects.toThrow("upgrade refused: 429");
  });

  it("limits - WebSocket subscriptions count against limits.maxSubscriptionsPerClient over all sockets; unsub frees one", async () => {
    const a = await open();
    const b = await open();
    expect((await sse("lim.sse")).res.status).toBe(200);
    for (const sid of ["1", "2"]) a.send({ op: "sub", sid, subject: `lim.${sid}` });
    b.send({ op: "sub", sid: "3", subject: "lim.stored.>" });
    b.send({ op: "sub", sid: "4", subject: "lim.4" });
    expect(await b.next((fr) => fr.op === "err")).toEqual({
      op: "err",
      sid: "4",
      status: 429,
      title: "Too many requests",
      detail: "at most 4 subscriptions per client",
    });
    a.send({ op: "unsub", sid: "1" });
    b.send({ op: "sub", sid: "5", subject: "lim.5" });
    b.send({ op: "ping" });
    await b.next((fr) => fr.op === "pong");
    expect(b.frames.filter((fr) => fr.op === "err")).toHaveLength(1);
    expect(f.gw.app.gateway.subscriptionSlots.count("ip:127.0.0.1")).toBe(4);
  });

  it("limits - a socket sending faster than NATS acknowledges is paused: unanswered frames stay bounded, every frame is answered in order", async () => {
    const c = await open();
    const session = [...f.gw.app.gateway.wsSessions][0] as WsSession;
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, session.inflight)), 1);
    const n = 20_000;
    // JetStream publishes: each waits for its ack, so the client outruns the gateway.
    for (let i = 0; i < n; i++) c.send({ op: "pub", id: i, subject: "lim.stored.x", data: i });
    const last = await c.next((fr) => fr.id === n - 1, 60_000);
    clearInterval(sample);
    expect(last).toMatchObject({ op: "ack", status: 201, seq: n });
    const acks = c.frames.filter((fr) => fr.op === "ack");
    expect(acks.map((fr) => fr.id)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(most).toBeGreaterThanOrEqual(MAX_INFLIGHT);
    // Frames already read from one socket chunk (64 KiB, ~900 of these) still arrive after pause().
    expect(most).toBeLessThan(2_000);
  }, 90_000);

  it("limits - unanswered frames are bounded in bytes too: large requests nobody answers pause the socket long before the frame count", async () => {
    // A responder that never replies: each req waits for its timeout, holding its frame.
    const silent = f.nc.subscribe("lim.hold", { callback: () => {} });
    await f.nc.flush();
    const c = await open();
    const session = [...f.gw.app.gateway.wsSessions][0] as WsSession;
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, session.inflight)), 1);
    const n = 20;
    const data = "x".repeat(64 * 1024);
    for (let i = 0; i < n; i++) c.send({ op: "req", id: i, subject: "lim.hold", data, timeout: 300 });
    for (let i = 0; i < n; i++) await c.next((fr) => fr.op === "err" && fr.id === i, 20_000);
    clearInterval(sample);
    expect(c.frames.filter((fr) => fr.op === "err").map((fr) => fr.status)).toEqual(Array(n).fill(504));
    // 128 KiB hold two such frames; one more may come with the read that crossed the bound.
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(4);
    silent.unsubscribe();
  }, 60_000);
});
