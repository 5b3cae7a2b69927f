import { afterEach, describe, expect, it } from "vitest";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { useGateway } from "../support/fixture.js";
import { gatewaySubjects } from "../support/nats.js";
import { startGateway } from "../support/gateway.js";
import { signToken } from "../support/jwt.js";
import { wsClient, type WsClient } from "../support/ws.js";
import { transferCompleted } from "../fixtures/events.js";


describe("WebSocket", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["transfer.>", "ws.stored.>"] }] } });
  const clients: WsClient[] = [];
  const open = async (gw = f.gw, headers: Record<string, string> = {}) => {
    const c = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`, headers);
    clients.push(c);
    return c;
  };
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it("ws - ping answers pong", async () => {
    const c = await open();
    c.send({ op: "ping" });
    expect(await c.next()).toEqual({ op: "pong", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
  });

  it("ws - pub is acked like HTTP publish: core 202, stream 201 with stream and seq", async () => {
    const c = await open();
    c.send({ op: "pub", id: "a1", subject: "ws.core", data: { n: 1 }, headers: { "NatsH-X-Tenant": "acme" } });
    expect(await c.next()).toEqual({ op: "ack", id: "a1", status: 202, subject: "ws.core" });
    c.send({ op: "pub", id: 2, subject: "transfer.completed", data: transferCompleted, headers: { "Idempotency-Key": "ws-1" } });
    expect(await c.next()).toEqual({ op: "ack", id: 2, status: 201, subject: "transfer.completed", stream: "EVENTS", seq: 1, duplicate: false });
    const stored = await f.jsm.streams.getMessage("EVENTS", { seq: 1 });
    expect(stored!.header.get("Nats-Msg-Id")).toBe("ws-1");
  });

  it("ws - replies leave in frame order while publishes are pipelined: acks, errors and pongs interleave as sent", async () => {
    const c = await open();
    c.send({ op: "pub", id: "js1", subject: "ws.stored.order", data: 1 });
    c.send({ op: "pub", id: "core", subject: "ws.order", data: 2 });
    c.send({ op: "pub", id: "denied", subject: "$JS.API.STREAM.DELETE.EVENTS", data: 3 });
    c.send("{not json");
    c.send({ op: "ping" });
    c.send({ op: "pub", id: "js2", subject: "ws.stored.order", data: 4 });
    await c.next((fr) => fr.id === "js2");
    expect(c.frames.map((fr) => [fr.op, fr.id, fr.status])).toEqual([
      ["ack", "js1", 201],
      ["ack", "core", 202],
      ["err", "denied", 403],
      ["err", undefined, 400],
      ["pong", undefined, undefined],
      ["ack", "js2", 201],
    ]);
  });

  it("ws - sub delivers msg frames with its sid (wildcards, headers mapped back, cursor for streams); unsub stops them", async () => {
    const c = await open();
    c.send({ op: "sub", sid: "s1", subject: "ws.stored.>" });
    c.send({ op: "sub", sid: 7, subject: "ws.core.*" });
    c.send({ op: "ping" });
    await c.next((fr) => fr.op === "pong");
    const h = natsHeaders();
    h.set("X-Region", "eu");
    f.nc.publish("ws.core.a", JSON.stringify({ hello: 1 }), { headers: h });
    const coreMsg = await c.next((fr) => fr.op === "msg");
    expect(coreMsg).toEqual({ op: "msg", sid: "7", subject: "ws.core.a", data: { hello: 1 }, headers: { "NatsH-X-Region": "eu" }, time: expect.any(String) });
    c.send({ op: "pub", subject: "ws.stored.x", data: "text" });
    const stored = await c.next((fr) => fr.op === "msg");
    expect(stored).toMatchObject({ op: "msg", sid: "s1", subject: "ws.stored.x", data: "text", stream: "EVENTS", cursor: `EVENTS:${stored.seq}` });
    c.send({ op: "unsub", sid: 7 });
    c.send({ op: "ping" });
    await c.next((fr) => fr.op === "pong");
    f.nc.publish("ws.core.b", "{}");
    c.send({ op: "pub", id: "after", subject: "ws.core.c", data: 1 });
    await c.next((fr) => fr.op === "ack" && fr.id === "after");
    expect(c.frames.filter((fr) => fr.op === "msg" && fr.sid === "7")).toHaveLength(1);
  });

  it("ws - sub with lastEventId resumes from a stream", async () => {
    const c = await open();
    for (let i = 0; i < 5; i++) c.send({ op: "pub", id: i, subject: "ws.stored.resume", data: { i } });
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await c.next((fr) => fr.op === "ack"));
    c.send({ op: "sub", sid: "r", subject: "ws.stored.resume", lastEventId: `EVENTS:${acks[1]!.seq}` });
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await c.next((fr) => fr.op === "msg")).data.i);
    expect(got).toEqual([2, 3, 4]);
  });

  it("ws - req gets a reply frame; no responders is an err frame", async () => {
    f.nc.subscribe("ws.svc", { callback: (_e, m) => void m.respond(JSON.stringify({ echo: JSON.parse(new TextDecoder().decode(m.data)) })) });
    await f.nc.flush();
    const c = await open();
    c.send({ op: "req", id: "q1", subject: "ws.svc", data: { x: 1 }, timeout: 2000 });
    expect(await c.next()).toEqual({ op: "reply", id: "q1", data: { echo: { x: 1 } } });
    c.send({ op: "req", id: "q2", subject: "ws.nobody", data: 1 });
    expect(await c.next()).toEqual({ op: "err", id: "q2", status: 503, title: "No responders", detail: "no responders are listening on ws.nobody" });
  });

  it.each([0, -5, 1.5, 60_001, "abc", null])("ws - req timeout %j is an err 400 with the same bounds as HTTP ?timeout=", async (timeout) => {
    const c = await open();
    c.send({ op: "req", id: "t", subject: "ws.svc", data: 1, timeout });
    expect(await c.next()).toEqual({
      op: "err",
      id: "t",
      status: 400,
      title: "Bad request",
      detail: `timeout must be a whole number of milliseconds from 1 to 60000, got ${JSON.stringify(timeout)}`,
    });
  });

  it.each([
    ["invalid JSON", "{nope", {}, 400, "Malformed JSON"],
    ["not an object", "[1]", {}, 400, "Bad request"],
    ["unknown op", { op: "dance", id: 1 }, { id: 1 }, 400, "Bad request"],
    ["bad subject", { op: "pub", id: 2, subject: "a..b", data: 1 }, { id: 2 }, 400, "Invalid subject"],
    ["reserved subject", { op: "pub", id: 3, subject: "$JS.API.INFO", data: 1 }, { id: 3 }, 403, "Forbidden"],
    ["schema violation", { op: "pub", id: 4, subject: "transfer.completed", data: {} }, { id: 4 }, 422, "Schema violation"],
    ["wildcard publish", { op: "pub", id: 5, subject: "a.*", data: 1 }, { id: 5 }, 400, "Invalid subject"],
    ["sub without sid", { op: "sub", subject: "a" }, {}, 400, "Bad request"],
    ["sub to a bad pattern", { op: "sub", sid: "x", subject: "a.>.b" }, { sid: "x" }, 400, "Invalid subject"],
    ["unsub of nothing", { op: "unsub", sid: "nope" }, { sid: "nope" }, 400, "Bad request"],
  ])("ws - %s answers an err frame and the socket stays open", async (_name, frame, ref, status, title) => {
    const c = await open();
    c.send(frame);
    const err = await c.next();
    expect(err).toMatchObject({ op: "err", ...ref, status, title });
    expect(typeof err.detail).toBe("string");
    c.send({ op: "ping" });
    expect(await c.next()).toEqual({ op: "pong", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
  });

  it("ws - ws.maxSubscriptions caps subscriptions per socket; rateLimit applies to pub frames", async () => {
    // burst 3: the upgrade request takes one token, then two pub frames fit.
    const capped = await startGateway(f.server.url, { ws: { maxSubscriptions: 2 }, rateLimit: { perSecond: 0.2, burst: 3 } });
    try {
      const c = await open(capped);
      for (const sid of ["a", "b", "c"]) c.send({ op: "sub", sid, subject: `cap.${sid}` });
      expect(await c.next((fr) => fr.op === "err")).toMatchObject({ sid: "c", status: 400, detail: "at most 2 subscriptions per socket" });
      for (const id of [1, 2, 3]) c.send({ op: "pub", id, subject: "cap.x", data: id });
      expect(await c.next((fr) => fr.id === 1)).toMatchObject({ op: "ack", status: 202 });
      expect(await c.next((fr) => fr.id === 2)).toMatchObject({ op: "ack", status: 202 });
      expect(await c.next((fr) => fr.id === 3)).toMatchObject({ op: "err", status: 429, title: "Too many requests" });
      await expect.poll(() => capped.audit.filter((r) => r.status === 429)).toEqual([expect.objectContaining({ action: "auth", outcome: "limited", status: 429 })]);
    } finally {
      await capped.close();
    }
  });

  it("ws - a frame over ws.maxFrameBytes closes the socket with 1009", async () => {
    const small = await startGateway(f.server.url, { ws: { maxFrameBytes: 1024 } });
    try {
      const c = await open(small);
      c.send({ op: "pub", subject: "big", data: "x".repeat(4096) });
      expect((await c.closed).code).toBe(1009);
    } finally {
      await small.close();
    }
  });

  it("ws - a client that does not read is closed with 1013 and everything is released", async () => {
    const small = await startGateway(f.server.url, { ws: { maxBufferedBytes: 256 * 1024 } });
    try {
      const c = await open(small);
      c.send({ op: "sub", sid: "flood", subject: "ws.flood" });
      c.send({ op: "ping" });
      await c.next((fr) => fr.op === "pong");
      (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const big = JSON.stringify({ pad: "y".repeat(64 * 1024) });
      for (let i = 0; i < 400 && small.app.gateway.wsSessions.size > 0; i++) f.nc.publish("ws.flood", big);
      await expect.poll(() => small.app.gateway.wsSessions.size, { timeout: 10_000 }).toBe(0);
      (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect((await c.closed).code).toBe(1013);
      await expect.poll(() => gatewaySubjects(f.server.monitorUrl), { timeout: 5_000 }).not.toContain("ws.flood");
      expect(await small.app.metrics.text()).toContain('natsgate_slow_consumer_disconnects_total{transport="ws"} 1\n');
    } finally {
      await small.close();
    }
  });

  it("ws - a silent client is disconnected after ws.idleTimeoutMs", async () => {
    const quick = await startGateway(f.server.url, { ws: { pingIntervalMs: 50, idleTimeoutMs: 200 } });
    try {
      const c = await open(quick);
      // Pausing the socket stops pongs too: the client looks dead.
      (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      await expect.poll(() => quick.app.gateway.wsSessions.size, { timeout: 5_000 }).toBe(0);
      (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await c.closed).toMatchObject({ code: 1001 });
    } finally {
      await quick.close();
    }
  });

  it("ws - closing sockets releases every NATS subscription (server monitoring)", async () => {
    const many = await Promise.all(Array.from({ length: 20 }, () => open()));
    for (const [i, c] of many.entries()) c.send({ op: "sub", sid: "s", subject: `ws.cleanup.${i % 4}` });
    for (const c of many) {
      c.send({ op: "ping" });
      await c.next((fr) => fr.op === "pong");
    }
    expect((await gatewaySubjects(f.server.monitorUrl)).filter((s) => s.startsWith("ws.cleanup.")).sort()).toEqual(["ws.cleanup.0", "ws.cleanup.1", "ws.cleanup.2", "ws.cleanup.3"]);
    for (const c of many) c.close();
    await expect.poll(async () => (await gatewaySubjects(f.server.monitorUrl)).filter((s) => s.startsWith("ws.cleanup.")), { timeout: 5_000 }).toEqual([]);
    expect(f.gw.app.gateway.wsSessions.size).toBe(0);
  });
});

describe("WebSocket with auth", () => {
  const SECRET = "ws-auth-hmac-secret-0123456789abcdef";
  const f = useGateway({
    auth: {
      mode: "required",
      clients: [{ name: "tool", token: "tool-token-0123456789", publish: { allow: ["deploy.request"] }, subscribe: { allow: ["deployment.status"] } }],
      jwt: { secret: SECRET },
    },
  });
  const url = () => `${f.gw.url.replace("http", "ws")}/v1/ws`;

  it("ws auth - the upgrade needs a token (401 otherwise); publish and subscribe permissions apply per frame", async () => {
    await expect(wsClient(url())).rejects.toThrow("upgrade refused: 401");
    const c = await wsClient(`${url()}?access_token=tool-token-0123456789`);
    c.send({ op: "sub", sid: "ok", subject: "deployment.status" });
    c.send({ op: "sub", sid: "no", subject: "deployment.>" });
    expect(await c.next()).toMatchObject({ op: "err", sid: "no", status: 403, detail: "client tool may not subscribe to deployment.>" });
    c.send({ op: "pub", id: 1, subject: "deployment.status", data: {} });
    expect(await c.next()).toMatchObject({ op: "err", id: 1, status: 403 });
    c.close();
  });

  it("ws auth - a socket whose JWT expires is closed with 1008", async () => {
    const token = await signToken(new TextEncoder().encode(SECRET), { subject: "short", expiresIn: 1, claims: { natsgate: { subscribe: { allow: ["deployment.status"] } } } });
    const c = await wsClient(url(), { authorization: `Bearer ${token}` });
    expect(await c.closed).toEqual({ code: 1008, reason: "token expired" });
  });
});
