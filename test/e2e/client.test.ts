/**
 * `@natsgate/client` (client/) against a real gateway and nats-server (issue 17):
 * publish, batch and request with typed errors, Retry-After honoured, an SSE
 * subscription that resumes across a gateway restart and a token expiry with no
 * gap and no duplicate, and a WebSocket that comes back after the gateway ends it.
 */
import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createClient, ForbiddenError, RateLimitedError, UnauthorizedError, UnavailableError, ValidationError, type SocketStatus, type SubscriptionEvent, type SubscriptionStatus } from "../../client/src/index.js";
import { transferCompleted } from "../fixtures/events.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { signToken } from "../support/jwt.js";
import { collector, natsConnect, text } from "../support/nats.js";
import { NatsServer } from "../support/nats-server.js";

const TOKEN = "client-token-0123456789abcdef";
const OPS = "client-ops-0123456789abcdef";
const SECRET = "client-test-jwt-secret-0123456789abcdef";
const STREAMS = { streams: [{ name: "CLIENT", subjects: ["cl.s.>", "cl.w.>"] }] };
const config = (port = 0) => ({
  server: { port },
  auth: {
    mode: "required" as const,
    clients: [
      { name: "svc", token: TOKEN, publish: { allow: ["cl.>", "transfer.completed"] }, subscribe: { allow: ["cl.>"] } },
      { name: "ops", token: OPS, admin: true },
    ],
    jwt: { secret: SECRET },
  },
  jetstream: STREAMS,
});

/** Resolves once `events` holds `n` items. */
async function until<T>(events: T[], n: number, timeoutMs = 20_000): Promise<T[]> {
  await expect.poll(() => events.length, { timeout: timeoutMs, interval: 20 }).toBeGreaterThanOrEqual(n);
  return events;
}

describe("client - against a real gateway", () => {
  let server: NatsServer;
  let gw: TestGateway;
  let nc: Awaited<ReturnType<typeof natsConnect>>;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
    gw = await startGateway(server.url, config());
  });
  afterAll(async () => {
    await gw?.close();
    await nc?.close();
    await server?.cleanup();
  });

  it("publish answers core 202 and JetStream results, carries NATS headers and an idempotency key; batch and request too", async () => {
    const client = createClient({ url: gw.url, token: TOKEN });
    const sub = await collector(nc, "cl.core");
    expect(await client.publish("cl.core", { n: 1 }, { headers: { Tenant: "acme" } })).toEqual({ subject: "cl.core" });
    const [msg] = await sub.next(1);
    expect([text(msg!), msg!.headers?.get("Tenant")]).toEqual(['{"n":1}', "acme"]);
    const stored = await client.publish("cl.s.one", { n: 2 }, { idempotencyKey: "k-1" });
    expect(stored).toMatchObject({ subject: "cl.s.one", stream: "CLIENT", duplicate: false });
    expect(await client.publish("cl.s.one", { n: 2 }, { idempotencyKey: "k-1" })).toEqual({ ...stored, duplicate: true });
    expect(await client.publish("cl.raw", new TextEncoder().encode("bytes"), { contentType: "application/octet-stream" })).toEqual({ subject: "cl.raw" });

    const results = await client.publishBatch([{ subject: "cl.b", data: 1 }, { subject: "nope.b", data: 2 }]);
    expect(results.map((r) => [r.index, r.status])).toEqual([[0, 202], [1, 403]]);

    const responder = nc.subscribe("cl.echo", { callback: (_e, m) => {
      const h = natsHeaders();
      h.set("Served-By", "test");
      m.respond(m.data, { headers: h });
    } });
    await nc.flush();
    expect(await client.request("cl.echo", { ping: 1 })).toEqual({ data: { ping: 1 }, headers: { "served-by": "test" }, status: 200 });
    responder.unsubscribe();
  });

  it("refusals are typed errors with the problem's fields: 401, 403, 422, and 503 with Retry-After", async () => {
    const client = createClient({ url: gw.url, token: TOKEN, maxRetries: 0 });
    const err = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const bad = await err(createClient({ url: gw.url, token: "wrong-token-0123456789" }).publish("cl.x", {}));
    expect(bad).toBeInstanceOf(UnauthorizedError);
    expect(bad).toMatchObject({ status: 401, detail: "unknown token" });
    expect(await err(client.publish("other.x", {}))).toBeInstanceOf(ForbiddenError);
    const invalid = await err(client.publish("transfer.completed", { ...transferCompleted, sizeBytes: "big" }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).errors.map((e) => e.path)).toEqual(["/sizeBytes"]);
    const none = await err(client.request("cl.nobody", {}));
    expect(none).toBeInstanceOf(UnavailableError);
    expect(none).toMatchObject({ status: 503, retryAfterMs: 1000, type: "https://natsgate.dev/problems/no-responders" });
  });

  it("a 429 is retried after its Retry-After, and thrown as RateLimitedError once the retries are spent", async () => {
    const limited = await startGateway(server.url, { ...config(), rateLimit: { perSecond: 1, burst: 1 } });
    try {
      const client = createClient({ url: limited.url, token: TOKEN });
      await client.publish("cl.rate", { n: 1 });
      const t = performance.now();
      await client.publish("cl.rate", { n: 2 });
      // The gateway said Retry-After: 1; the client waited it out and the retry went through.
      expect(performance.now() - t).toBeGreaterThan(900);
      const once = createClient({ url: limited.url, token: TOKEN, maxRetries: 0 });
      const refused = await once.publish("cl.rate", { n: 3 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RateLimitedError);
      expect(refused).toMatchObject({ status: 429, retryAfterMs: 1000 });
    } finally {
      await limited.close();
    }
  });

  it("subscribe resumes across a gateway restart on the same address: no gap, no duplicate", async () => {
    const port = Number(new URL(gw.url).port);
    const js = jetstream(nc);
    const client = createClient({ url: gw.url, token: TOKEN });
    const got: SubscriptionEvent<{ n: number }>[] = [];
    const states: SubscriptionStatus["state"][] = [];
    const sub = client.subscribe<{ n: number }>("cl.s.restart", { onEvent: (e) => void got.push(e), onStatus: (s) => states.push(s.state) });
    await expect.poll(() => states.includes("live")).toBe(true);
    for (let n = 0; n < 20; n++) await client.publish("cl.s.restart", { n });
    await until(got, 20);
    // Down: the stream ends with event: shutdown; events keep being stored meanwhile.
    await gw.close();
    for (let n = 20; n < 40; n++) await js.publish("cl.s.restart", JSON.stringify({ n }));
    gw = await startGateway(server.url, config(port));
    await until(got, 40);
    for (let n = 40; n < 45; n++) await client.publish("cl.s.restart", { n });
    await until(got, 45);
    sub.close();
    expect(await sub.closed).toBeUndefined();
    expect(got.map((e) => e.data.n)).toEqual(Array.from({ length: 45 }, (_, n) => n));
    expect(sub.cursor).toBe(got[44]!.id);
    expect(states).toContain("retrying");
  });

  it("a token that expires mid-stream is refreshed with getToken, and the stream resumes from its cursor", async () => {
    let issued = 0;
    const getToken = async () => {
      issued++;
      // The first answer is wrong: the client asks again before giving up.
      if (issued === 1) return "not-a-valid-token-0123456789";
      return signToken(new TextEncoder().encode(SECRET), { subject: "dash", expiresIn: 2, claims: { natsgate: { subscribe: { allow: ["cl.s.>"] } } } });
    };
    const client = createClient({ url: gw.url, getToken });
    const publisher = createClient({ url: gw.url, token: TOKEN });
    const got: SubscriptionEvent<{ n: number }>[] = [];
    const sub = client.subscribe<{ n: number }>("cl.s.jwt", { onEvent: (e) => void got.push(e), deliver: "new" });
    await expect.poll(() => issued, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    // Wait for the stream to be live before publishing: events from now on must all arrive.
    await new Promise((r) => setTimeout(r, 300));
    for (let n = 0; n < 30; n++) {
      await publisher.publish("cl.s.jwt", { n });
      await new Promise((r) => setTimeout(r, 100));
    }
    await until(got, 30);
    sub.close();
    expect(got.map((e) => e.data.n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    // Two-second tokens over three seconds of events: at least one expiry was refreshed.
    expect(issued).toBeGreaterThanOrEqual(3);
  });

  it("a subscription refused for good ends with its typed error", async () => {
    const client = createClient({ url: gw.url, token: TOKEN });
    const sub = client.subscribe("secret.x", { onEvent: () => {} });
    expect(await sub.closed).toBeInstanceOf(ForbiddenError);
  });

  it("socket: publish acks, request replies, typed err frames; after the gateway ends the socket it resubscribes from its cursor", async () => {
    const client = createClient({ url: gw.url, token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    const states: string[] = [];
    const socket = client.socket({ onStatus: (s) => states.push(s.state) });
    await expect.poll(() => states.includes("open")).toBe(true);
    const got: number[] = [];
    const sub = socket.subscribe<{ n: number }>("cl.w.>", (m) => void got.push(m.data.n));
    // The sub is in place once a ping after it is answered (frames are answered in order).
    const ack = await socket.publish("cl.w.a", { n: 0 });
    expect(ack).toMatchObject({ status: 201, subject: "cl.w.a", stream: "CLIENT" });
    for (let n = 1; n < 10; n++) await socket.publish("cl.w.a", { n });
    await until(got, 10);
    await expect(socket.publish("other.x", {})).rejects.toBeInstanceOf(ForbiddenError);

    const responder = nc.subscribe("cl.ask", { callback: (_e, m) => void m.respond(JSON.stringify({ answer: 42 })) });
    await nc.flush();
    expect(await socket.request("cl.ask", { q: 1 })).toMatchObject({ data: { answer: 42 } });
    responder.unsubscribe();

    // An operator ends the session (WebSocket 1001); events published meanwhile are not lost.
    const list = await (await gw.fetch("/v1/connections?client=svc", { headers: { authorization: `Bearer ${OPS}` } })).json();
    const [session] = (list.connections as { id: string; transport: string }[]).filter((c) => c.transport === "ws");
    expect((await gw.fetch(`/v1/connections/${session!.id}`, { method: "DELETE", headers: { authorization: `Bearer ${OPS}` } })).status).toBe(204);
    const http = createClient({ url: gw.url, token: TOKEN });
    for (let n = 10; n < 20; n++) await http.publish("cl.w.b", { n });
    await until(got, 20);
    expect(states.filter((s) => s === "open").length).toBe(2);
    expect(got).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(sub.cursor).toMatch(/CLIENT/);
    socket.close();
    await socket.closed;
  });

  it("socket: a consumer slower than the stream lets the socket go and comes back from its cursor: every message once, in order", async () => {
    const client = createClient({ url: gw.url, token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    const states: SocketStatus[] = [];
    const socket = client.socket({ maxQueued: 5, onStatus: (s) => states.push(s) });
    await expect.poll(() => states.some((s) => s.state === "open")).toBe(true);
    const got: number[] = [];
    socket.subscribe<{ n: number }>("cl.w.slow", async (m) => {
      await new Promise((r) => setTimeout(r, 5));
      got.push(m.data.n);
    });
    await socket.publish("cl.w.slow", { n: 0 });
    const batch = await createClient({ url: gw.url, token: TOKEN }).publishBatch(Array.from({ length: 80 }, (_, i) => ({ subject: "cl.w.slow", data: { n: i + 1 } })));
    expect(batch.filter((r) => r.status !== 201)).toEqual([]);
    await until(got, 81);
    // Nothing more comes: a message handed over twice would show up after the 81st.
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(Array.from({ length: 81 }, (_, n) => n));
    // It stopped reading at maxQueued + 1 each time, and reopened once the consumer was done.
    const behind = states.filter((s) => s.state === "behind");
    expect(behind.length).toBeGreaterThanOrEqual(1);
    expect(behind.every((s) => s.state === "behind" && s.queued === 6)).toBe(true);
    expect(states.filter((s) => s.state === "open").length).toBe(behind.length + 1);
    socket.close();
    await socket.closed;
  });

  it("socket: a burst larger than maxQueued, handed to a quick consumer, comes once and in order over one socket at a time", async () => {
    const client = createClient({ url: gw.url, token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    const states: SocketStatus["state"][] = [];
    const socket = client.socket({ maxQueued: 2, onStatus: (s) => states.push(s.state) });
    await expect.poll(() => states.includes("open")).toBe(true);
    const got: number[] = [];
    socket.subscribe<{ n: number }>("cl.w.burst", (m) => void got.push(m.data.n));
    await socket.publish("cl.w.burst", { n: 0 });
    await createClient({ url: gw.url, token: TOKEN }).publishBatch(Array.from({ length: 200 }, (_, i) => ({ subject: "cl.w.burst", data: { n: i + 1 } })));
    await until(got, 201);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(Array.from({ length: 201 }, (_, n) => n));
    // Only the socket in use has a session at the gateway: none left over from a reopen.
    const list = await (await gw.fetch("/v1/connections?client=svc", { headers: { authorization: `Bearer ${OPS}` } })).json();
    expect((list.connections as { transport: string }[]).filter((c) => c.transport === "ws").length).toBe(1);
    socket.close();
    await socket.closed;
  });

  it("socket: a refused token is asked for again once, then the socket ends with the typed 401", async () => {
    const WS = WebSocket as unknown as typeof globalThis.WebSocket;
    let asked = 0;
    const getToken = () => (++asked === 1 ? "not-a-token-0123456789" : TOKEN);
    const states: string[] = [];
    const refreshed = createClient({ url: gw.url, getToken, WebSocket: WS }).socket({ onStatus: (s) => states.push(s.state) });
    await expect.poll(() => states.includes("open")).toBe(true);
    expect(states.slice(0, 3)).toEqual(["connecting", "retrying", "connecting"]);
    refreshed.close();
    expect(await refreshed.closed).toBeUndefined();

    const never = createClient({ url: gw.url, getToken: () => "not-a-token-0123456789", WebSocket: WS }).socket();
    const error = await never.closed;
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ status: 401, detail: "unknown token" });
  });
});
