/** The sessions API (issue 14, item 4): who is connected to this replica, and ending one session cleanly. */
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { rawSse, sseClient } from "../support/sse.js";
import { wsClient } from "../support/ws.js";

const OPS = "ops-token-0123456789abcdef";
const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef";

describe("GET/DELETE /v1/connections", () => {
  let server: NatsServer;
  let gw: TestGateway;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, {
      auth: {
        mode: "required",
        clients: [
          { name: "ops", token: OPS, admin: true, publish: { allow: ["conn.>"] } },
          { name: "alice", token: ALICE, subscribe: { allow: ["conn.a.>"] } },
          { name: "bob", token: BOB, subscribe: { allow: ["conn.b.>"] } },
        ],
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
  });
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const list = async (query = "") => {
    const res = await gw.fetch(`/v1/connections${query}`, { headers: as(OPS) });
    expect(res.status).toBe(200);
    return (await res.json()) as { connections: Record<string, any>[]; next?: string };
  };

  it("connections - lists each live SSE and WebSocket session with its client, address, subjects, counts; pages; filters by client; admin only", async () => {
    const before = Date.now();
    const aliceSse = await rawSse(`${gw.url}/v1/subscribe?subject=conn.a.>&access_token=${ALICE}`);
    const aliceWs = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`, as(ALICE));
    aliceWs.send({ op: "sub", sid: "s1", subject: "conn.a.x" });
    aliceWs.send({ op: "ping" });
    await aliceWs.next((f) => f.op === "pong");
    const bobSse = await rawSse(`${gw.url}/v1/subscribe?subject=conn.b.>&access_token=${BOB}`);
    for (let i = 0; i < 3; i++) expect((await gw.fetch("/v1/publish/conn.a.x", { method: "POST", headers: { ...as(OPS), "content-type": "application/json" }, body: JSON.stringify({ i }) })).status).toBe(202);
    await aliceSse.until((t) => (t.match(/^data: /gm) ?? []).length === 3);
    for (let i = 0; i < 3; i++) await aliceWs.next((f) => f.op === "msg");

    const { connections, next } = await list();
    expect(next).toBeUndefined();
    expect(connections.map((c) => [c.client, c.transport, c.subjects])).toEqual([
      ["alice", "sse", ["conn.a.>"]],
      ["alice", "ws", ["conn.a.x"]],
      ["bob", "sse", ["conn.b.>"]],
    ]);
    for (const c of connections) {
      expect(c).toMatchObject({ clientKind: "token", remote: "127.0.0.1", dropped: 0, buffered: 0 });
      expect(c.id).toMatch(/^c\d+-[0-9a-f]{12}$/);
      expect(Date.parse(c.connectedAt)).toBeGreaterThanOrEqual(before - 1_000);
    }
    expect(connections.map((c) => c.sent)).toEqual([3, 3, 0]);

    // Pages of one, resumed with `after`, cover everything once; a client filter keeps its own.
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await list(`?limit=1${after ? `&after=${after}` : ""}`);
      // No page is empty: a `next` is only given when there is more.
      expect(page.connections).toHaveLength(1);
      ids.push(...page.connections.map((c) => c.id));
      after = page.next;
    } while (after);
    expect(ids).toEqual(connections.map((c) => c.id));
    expect((await list("?client=alice")).connections.map((c) => c.transport)).toEqual(["sse", "ws"]);
    expect((await gw.fetch("/v1/connections?limit=0", { headers: as(OPS) })).status).toBe(400);
    for (const bad of ["garbage", "c1-zzzzzzzzzzzz", ""]) expect((await gw.fetch(`/v1/connections?after=${bad}`, { headers: as(OPS) })).status).toBe(400);
    expect((await list("?client=")).connections).toHaveLength(3);
    expect((await gw.fetch("/v1/connections", { headers: as(ALICE) })).status).toBe(403);
    expect((await gw.fetch("/v1/connections")).status).toBe(401);

    // The same counts as metrics, kept once sessions end.
    const text = await gw.app.metrics.text();
    expect(text).toContain('natsgate_session_messages_total{transport="sse",outcome="sent"} 3');
    expect(text).toContain('natsgate_session_messages_total{transport="ws",outcome="sent"} 3');
    expect(text).toContain("natsgate_sse_buffered_messages 0");
    expect(text).toContain("natsgate_ws_buffered_bytes 0");
    for (const s of [aliceSse, bobSse]) s.close();
    aliceWs.close();
    await expect.poll(async () => (await list()).connections.length).toBe(0);
    expect(await gw.app.metrics.text()).toContain('natsgate_session_messages_total{transport="sse",outcome="sent"} 3');
  });

  it("connections - DELETE ends a session cleanly: SSE with event: shutdown, WebSocket with 1001; the rest stay; an unknown id is 404", async () => {
    const sse = await rawSse(`${gw.url}/v1/subscribe?subject=conn.a.>&access_token=${ALICE}`);
    const ws = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`, as(BOB));
    ws.send({ op: "sub", sid: "b", subject: "conn.b.x" });
    ws.send({ op: "ping" });
    await ws.next((f) => f.op === "pong");
    const other = await rawSse(`${gw.url}/v1/subscribe?subject=conn.b.>&access_token=${BOB}`);
    const [sseConn, wsConn] = (await list()).connections;
    expect([sseConn!.transport, wsConn!.transport]).toEqual(["sse", "ws"]);

    expect((await gw.fetch(`/v1/connections/${sseConn!.id}`, { method: "DELETE", headers: as(ALICE) })).status).toBe(403);
    expect((await gw.fetch(`/v1/connections/${sseConn!.id}`, { method: "DELETE", headers: as(OPS) })).status).toBe(204);
    await sse.ended;
    // The event clients already resume on, with a reason that says an operator did it.
    expect(sse.text().endsWith('event: shutdown\ndata: {"reason":"operator"}\n\n')).toBe(true);
    expect((await gw.fetch(`/v1/connections/${wsConn!.id}`, { method: "DELETE", headers: as(OPS) })).status).toBe(204);
    expect(await ws.closed).toEqual({ code: 1001, reason: "closed by an operator" });
    expect((await list()).connections.map((c) => [c.client, c.transport])).toEqual([["bob", "sse"]]);
    expect((await gw.fetch(`/v1/connections/${sseConn!.id}`, { method: "DELETE", headers: as(OPS) })).status).toBe(404);
    expect(gw.audit.filter((r) => r.action === "admin" && r.status === 204).map((r) => [r.client, r.resource])).toEqual([
      ["ops", `connection:${sseConn!.id}`],
      ["ops", `connection:${wsConn!.id}`],
    ]);
    other.close();
  });
});

describe("a session an operator ends resumes where it was", () => {
  let server: NatsServer;
  let gw: TestGateway;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, { jetstream: { streams: [{ name: "OPS", subjects: ["ops.>"] }] } });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
  });

  it("connections - an EventSource ended by DELETE reconnects with its Last-Event-ID and gets what was published meanwhile, once", async () => {
    const publish = (i: number) => gw.fetch("/v1/publish/ops.e", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ i }) });
    const client = sseClient(`${gw.url}/v1/subscribe?subject=ops.>`);
    await client.opened;
    for (let i = 0; i < 3; i++) expect((await publish(i)).status).toBe(201);
    await client.next(3);
    const [session] = (await (await gw.fetch("/v1/connections")).json()).connections;
    expect((await gw.fetch(`/v1/connections/${session.id}`, { method: "DELETE" })).status).toBe(204);
    // Published while the client is away (the EventSource waits its retry: before it reconnects).
    for (let i = 3; i < 6; i++) expect((await publish(i)).status).toBe(201);
    // Six messages and the shutdown event between them.
    await client.next(7);
    expect(client.envelopes().map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(client.events.filter((e) => e.type === "shutdown").map((e) => e.data)).toEqual(['{"reason":"operator"}']);
    client.close();
  });
});

describe("session counts when a client stops reading", () => {
  let server: NatsServer;
  let gw: TestGateway;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, { sse: { maxBufferedMessages: 5, heartbeatMs: 60_000 } });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
  });
  const big = "x".repeat(200_000);
  const publish = (subject: string, n: number) => gw.fetch(`/v1/publish/${subject}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ big, n }) });
  const dropped = async () => Number(/^natsgate_session_messages_total\{transport="sse",outcome="dropped"\} (\d+)$/m.exec(await gw.app.metrics.text())![1]);
  const listed = async () => ((await (await gw.fetch("/v1/connections")).json()) as { connections: Record<string, any>[] }).connections;
  /** An SSE client that sends its request and then never reads. */
  const stuck = async (subject: string) => {
    const url = new URL(gw.url);
    const socket = tcpConnect(Number(url.port), url.hostname);
    socket.pause();
    await new Promise((r) => socket.once("connect", r));
    socket.write(`GET /v1/subscribe?subject=${subject} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await expect.poll(() => gw.app.gateway.connections.size).toBe(1);
    return socket;
  };

  it("connections - what an ended session still held counts as dropped: ended by an operator, and by overflow", async () => {
    const socket = await stuck("drop.a");
    let n = 0;
    let held: Record<string, any> | undefined;
    while (!held || held.buffered < 3) {
      expect((await publish("drop.a", n++)).status).toBe(202);
      held = (await listed())[0];
    }
    const before = await dropped();
    expect((await gw.fetch(`/v1/connections/${held.id}`, { method: "DELETE" })).status).toBe(204);
    await expect.poll(() => gw.app.gateway.connections.size).toBe(0);
    expect((await dropped()) - before).toBe(held.buffered);
    socket.destroy();

    const overflowing = await stuck("drop.b");
    const start = await dropped();
    for (let i = 0; gw.app.gateway.connections.size > 0; i++) expect((await publish("drop.b", i)).status).toBe(202);
    // Five queued when the sixth came: all six dropped (the client resumes from its last id).
    expect((await dropped()) - start).toBe(6);
    overflowing.destroy();
  });
});
