/**
 * `@natsgate/client` where things go wrong (issue 17, from helper-10's review):
 * a path that goes silent, a reconnect while messages wait for the consumer, a
 * subscription without a cursor across a reconnect, a token service that fails,
 * calls made before the socket opens, and bodies the client must not trust.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket as TcpSocket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createClient, UnavailableError, type SocketStatus, type SubscriptionStatus } from "../../client/src/index.js";
import { problemError } from "../../client/src/problem.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";

const TOKEN = "faults-token-0123456789abcdef";
const OPS = "faults-ops-0123456789abcdef";
const WS = WebSocket as unknown as typeof globalThis.WebSocket;
const config = {
  auth: {
    mode: "required" as const,
    clients: [
      { name: "svc", token: TOKEN, publish: { allow: ["cf.>"] }, subscribe: { allow: ["cf.>"] } },
      { name: "ops", token: OPS, admin: true },
    ],
  },
  sse: { heartbeatMs: 300 },
  jetstream: { streams: [{ name: "FAULTS", subjects: ["cf.s.>"] }] },
};

async function until<T>(items: T[], n: number, timeoutMs = 20_000): Promise<T[]> {
  await expect.poll(() => items.length, { timeout: timeoutMs, interval: 20 }).toBeGreaterThanOrEqual(n);
  return items;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy to `target` whose existing connections can be made to go silent (no FIN, no RST), as after a NAT or Wi-Fi change. */
async function silencingProxy(target: string): Promise<{ url: string; silence(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const live = new Set<{ silent: boolean; a: TcpSocket; b: TcpSocket }>();
  const server: Server = createServer((a) => {
    const pair: { silent: boolean; a: TcpSocket; b: TcpSocket } = { silent: false, a, b: connect(Number(port), hostname) };
    live.add(pair);
    a.on("data", (d) => void (!pair.silent && pair.b.write(d)));
    pair.b.on("data", (d) => void (!pair.silent && a.write(d)));
    for (const s of [a, pair.b]) s.on("error", () => {});
    a.on("close", () => (pair.b.destroy(), live.delete(pair)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    silence: () => live.forEach((p) => (p.silent = true)),
    close: () => new Promise((r) => (live.forEach((p) => (p.a.destroy(), p.b.destroy())), server.close(() => r()))),
  };
}

describe("client - faults", () => {
  let server: NatsServer;
  let gw: TestGateway;
  const http = () => createClient({ url: gw.url, token: TOKEN });
  const endSessions = async (transport: "ws" | "sse") => {
    const list = await (await gw.fetch("/v1/connections?client=svc", { headers: { authorization: `Bearer ${OPS}` } })).json();
    const ids = (list.connections as { id: string; transport: string }[]).filter((c) => c.transport === transport).map((c) => c.id);
    for (const id of ids) expect((await gw.fetch(`/v1/connections/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${OPS}` } })).status).toBe(204);
    return ids.length;
  };
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, config);
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
  });

  it("a path that goes silent: SSE notices the missing heartbeats and the socket its missing pongs, and both come back", async () => {
    const proxy = await silencingProxy(gw.url);
    try {
      const client = createClient({ url: proxy.url, token: TOKEN, WebSocket: WS });
      const sseStates: SubscriptionStatus["state"][] = [];
      const sseGot: number[] = [];
      const sub = client.subscribe<{ n: number }>("cf.s.silent", { idleTimeoutMs: 1_000, onEvent: (e) => void sseGot.push(e.data.n), onStatus: (s) => sseStates.push(s.state) });
      const wsStates: SocketStatus["state"][] = [];
      const wsGot: number[] = [];
      const socket = client.socket({ pingMs: 300, onStatus: (s) => wsStates.push(s.state) });
      socket.subscribe<{ n: number }>("cf.s.silent", (m) => void wsGot.push(m.data.n));
      await socket.publish("cf.s.silent", { n: 0 });
      await until(sseGot, 1);
      await until(wsGot, 1);

      const t = performance.now();
      proxy.silence();
      await http().publish("cf.s.silent", { n: 1 });
      await until(sseGot, 2, 10_000);
      await until(wsGot, 2, 10_000);
      // A second or two, not the close handshake's 30 s.
      expect(performance.now() - t).toBeLessThan(5_000);
      expect([sseGot, wsGot]).toEqual([[0, 1], [0, 1]]);
      expect(sseStates.filter((s) => s === "live").length).toBe(2);
      expect(wsStates.filter((s) => s === "open").length).toBe(2);
      sub.close();
      socket.close();
      await Promise.all([sub.closed, socket.closed]);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it("socket: a reconnect while messages wait for a slow consumer hands each over once, in order", async () => {
    const socket = createClient({ url: gw.url, token: TOKEN, WebSocket: WS }).socket();
    const got: number[] = [];
    socket.subscribe<{ n: number }>("cf.s.queued", async (m) => {
      await sleep(20);
      got.push(m.data.n);
    });
    await socket.publish("cf.s.queued", { n: 0 });
    expect((await http().publishBatch(Array.from({ length: 50 }, (_, i) => ({ subject: "cf.s.queued", data: { n: i + 1 } })))).every((r) => r.status === 201)).toBe(true);
    await until(got, 11);
    expect(await endSessions("ws")).toBe(1);
    await until(got, 51);
    await sleep(300);
    expect(got).toEqual(Array.from({ length: 51 }, (_, n) => n));
    socket.close();
    await socket.closed;
  });

  it("socket and SSE: a subscription that has had no message yet misses nothing published while it reconnects", async () => {
    const client = createClient({ url: gw.url, token: TOKEN, WebSocket: WS });
    const wsStates: SocketStatus["state"][] = [];
    const socket = client.socket({ onStatus: (s) => wsStates.push(s.state) });
    const wsGot: number[] = [];
    socket.subscribe<{ n: number }>("cf.s.gap", (m) => void wsGot.push(m.data.n));
    const sseGot: number[] = [];
    const sseStates: SubscriptionStatus["state"][] = [];
    const sub = client.subscribe<{ n: number }>("cf.s.gap", { onEvent: (e) => void sseGot.push(e.data.n), onStatus: (s) => sseStates.push(s.state) });
    // Both in place: a publish on the socket is answered after its sub; SSE says live.
    await socket.request("cf.none", {}).catch(() => {});
    await expect.poll(() => sseStates.includes("live")).toBe(true);
    await sleep(200);
    await endSessions("ws");
    await endSessions("sse");
    for (let n = 0; n < 5; n++) await http().publish("cf.s.gap", { n });
    await expect.poll(() => wsStates.filter((s) => s === "open").length).toBe(2);
    await expect.poll(() => sseStates.filter((s) => s === "live").length).toBe(2);
    for (let n = 5; n < 10; n++) await http().publish("cf.s.gap", { n });
    await until(wsGot, 10);
    await until(sseGot, 10);
    await sleep(200);
    expect([wsGot, sseGot]).toEqual([Array.from({ length: 10 }, (_, n) => n), Array.from({ length: 10 }, (_, n) => n)]);
    sub.close();
    socket.close();
  });

  it("socket: a getToken that fails is retried, calls made before the socket opens are sent once it does", async () => {
    let asked = 0;
    const getToken = () => {
      if (++asked === 1) throw new Error("token service down");
      return TOKEN;
    };
    const states: SocketStatus[] = [];
    const socket = createClient({ url: gw.url, getToken, WebSocket: WS }).socket({ onStatus: (s) => states.push(s) });
    // The README's example: publish right away.
    const ack = await socket.publish("cf.s.early", { n: 1 });
    expect(ack).toMatchObject({ status: 201, subject: "cf.s.early", stream: "FAULTS" });
    expect(states.slice(0, 3)).toEqual([{ state: "connecting" }, { state: "retrying", reason: "getToken failed: token service down", inMs: 500 }, { state: "connecting" }]);
    // Data JSON cannot carry is refused at once, and leaves nothing waiting.
    await expect(socket.publish("cf.s.early", { n: 1n })).rejects.toBeInstanceOf(TypeError);
    socket.close();
    expect(await socket.closed).toBeUndefined();
  });

  it("subscribe with an aborted signal ends at once; request sends bytes as they are; no responders is not retried; a long password is sent", async () => {
    const aborted = AbortSignal.abort();
    const states: SubscriptionStatus["state"][] = [];
    const sub = http().subscribe("cf.s.never", { onEvent: () => {}, signal: aborted, onStatus: (s) => states.push(s.state) });
    expect(await sub.closed).toBeUndefined();
    expect(states).toEqual(["closed"]);

    const nc = gw.nats.connection();
    const echo = nc.subscribe("cf.echo", { callback: (_e, m) => void m.respond(m.data) });
    await nc.flush();
    const reply = await http().request("cf.echo", new Uint8Array([104, 105]), { contentType: "application/octet-stream" });
    expect(reply.data).toBe("hi");
    echo.unsubscribe();

    const t = performance.now();
    await expect(http().request("cf.nobody", {})).rejects.toBeInstanceOf(UnavailableError);
    expect(performance.now() - t).toBeLessThan(900);

    const long = createClient({ url: gw.url, user: "nobody", password: "p".repeat(300_000) });
    await expect(long.publish("cf.x", {})).rejects.toMatchObject({ status: expect.any(Number) });
  });

  it("an error body that never ends is read to 64 KiB, not into memory whole", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 16 * 1024;
        c.enqueue(new Uint8Array(16 * 1024).fill(0x61));
      },
    });
    const err = await problemError(new Response(endless, { status: 502, statusText: "Bad Gateway" }));
    expect([err.status, err.title, err.detail.length]).toEqual([502, "Bad Gateway", 200]);
    expect(pulled).toBeLessThanOrEqual(96 * 1024);
  });
});
