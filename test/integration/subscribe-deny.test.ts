/**
 * Deny rules on subscriptions follow nats-server: a pattern that only overlaps a
 * deny (or a reserved prefix) is accepted and the denied subjects are filtered
 * out at delivery; a pattern wholly inside the denies is refused with 403.
 * Same rule on SSE and WebSocket.
 */
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { afterEach, describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { sseClient, type SseClient } from "../support/sse.js";
import { wsClient, type WsClient } from "../support/ws.js";

const AGENT = "agent-token-0123456789abcdef";
const KV_READER = "kv-reader-token-0123456789ab";
const INBOXER = "inboxer-token-0123456789abcd";
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe("subscribe - anonymous > (auth.mode none) sees application traffic only", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "ORDERS", subjects: ["orders.>"] }] } });
  const post = publishVia(() => f.gw);
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });

  /** Traffic on every reserved and internal prefix, then `orders.created` and a sentinel. */
  async function busTraffic(hookId: string): Promise<void> {
    const kv = await new Kvm(f.nc).create("secrets");
    await kv.put("db-password", "hunter2");
    await f.jsm.streams.info("ORDERS");
    f.nc.publish("$NATSGATE.deadletter.hook1", enc({ secret: "internal" }));
    f.nc.publish("_INBOX.stolen.reply", enc({ secret: "reply" }));
    // The gateway's own webhook registry: a KV put carrying the webhook's secret.
    const created = await f.gw.fetch("/v1/webhooks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: hookId, subjects: ["orders.created"], url: "https://hooks.example/x", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", enabled: false }),
    });
    expect(created.status).toBe(201);
    expect((await post("orders.created", JSON.stringify({ id: "o-1" }))).status).toBe(201);
    await f.nc.flush();
    await jetstream(f.nc).publish("orders.done", enc({ last: true }));
  }

  it("sse - > is accepted and delivers orders.* but never KV, JetStream API, inbox or gateway-internal messages", async () => {
    const c: SseClient = sseClient(`${f.gw.url}/v1/subscribe?subject=%3E`);
    open.push(c);
    await c.opened;
    await busTraffic("h1");
    await expect.poll(() => c.envelopes().some((e) => e.subject === "orders.done"), { timeout: 5_000 }).toBe(true);
    expect(c.envelopes().map((e) => e.subject)).toEqual(["orders.created", "orders.done"]);
  });

  it("ws - sub > is accepted and filtered the same way", async () => {
    const ws: WsClient = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`);
    open.push(ws);
    ws.send({ op: "sub", sid: "all", subject: ">" });
    ws.send({ op: "ping" });
    await ws.next((m) => m.op === "pong");
    // The sub is live once a message published after it arrives.
    await expect
      .poll(async () => {
        f.nc.publish("probe.ready", enc({}));
        return ws.frames.some((m) => m.subject === "probe.ready");
      })
      .toBe(true);
    await busTraffic("h2");
    await ws.next((m) => m.op === "msg" && m.subject === "orders.done");
    const subjects = ws.frames.filter((m) => m.op === "msg" && m.subject !== "probe.ready").map((m) => m.subject);
    expect(subjects).toEqual(["orders.created", "orders.done"]);
  });

  it("me - an anonymous caller may subscribe to >", async () => {
    expect(await (await f.gw.fetch("/v1/me")).json()).toEqual({
      name: "anonymous",
      kind: "anonymous",
      admin: true,
      publish: { allow: [">"], deny: [] },
      subscribe: { allow: [">", "> >"], deny: [] },
    });
  });

  it.each([
    ["q\r\nPUB $JS.API.STREAM.DELETE.ORDERS 0\r\n\r\nSUB zz q2", "CRLF"],
    ["workers extra", "a space"],
    ["", "empty"],
    ["w".repeat(129), "too long"],
    ["w*", "a wildcard"],
  ])("ws - queue %j (%s) is err 400 and never reaches the NATS protocol", async (queue) => {
    const ws: WsClient = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`);
    open.push(ws);
    ws.send({ op: "sub", sid: "inj", subject: "jobs.a", queue });
    expect(await ws.next((m) => m.op === "err")).toEqual({
      op: "err",
      sid: "inj",
      status: 400,
      title: "Bad request",
      detail: "queue must be 1-128 characters without spaces, control characters or wildcards",
    });
    expect((await f.jsm.streams.info("ORDERS")).config.name).toBe("ORDERS");
  });

  it.each(["$KV.>", "$JS.API.>", "_INBOX.>", "$NATSGATE.>", "$KV.natsgate_webhooks.h1"])("sse - %s, wholly reserved, is refused with 403", async (subject) => {
    const res = await f.gw.fetch(`/v1/subscribe?subject=${encodeURIComponent(subject)}`);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("subscribe - allow orders.> with deny orders.secret.*", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "ORDERS", subjects: ["orders.>"] }] },
    auth: {
      mode: "required",
      clients: [
        { name: "agent", token: AGENT, subscribe: { allow: ["orders.>", "orders.> workers"], deny: ["orders.secret.*"] } },
        { name: "kv-reader", token: KV_READER, subscribe: { allow: [">", "$KV.public.>"] } },
        { name: "inboxer", token: INBOXER, subscribe: { allow: ["_INBOX.>", "orders.>"], deny: ["orders.secret.*"] } },
      ],
    },
  });
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  const js = () => jetstream(f.nc);

  it("sse - orders.> is accepted; orders.secret.x never arrives, orders.secret.x.y (outside the deny) does", async () => {
    const c = sseClient(`${f.gw.url}/v1/subscribe?subject=orders.%3E`, { authorization: `Bearer ${AGENT}` });
    open.push(c);
    await c.opened;
    for (const s of ["orders.created", "orders.secret.x", "orders.secret.x.y", "orders.shipped"]) await js().publish(s, enc({ s }));
    await expect.poll(() => c.envelopes().length, { timeout: 5_000 }).toBe(3);
    expect(c.envelopes().map((e) => e.subject)).toEqual(["orders.created", "orders.secret.x.y", "orders.shipped"]);
  });

  it("sse - resuming from a cursor replays without the denied messages", async () => {
    const first = sseClient(`${f.gw.url}/v1/subscribe?subject=orders.%3E&deliver=all`, { authorization: `Bearer ${AGENT}` });
    open.push(first);
    await expect.poll(() => first.envelopes().length, { timeout: 5_000 }).toBe(3);
    expect(first.envelopes().every((e) => !/^orders\.secret\.[^.]+$/.test(e.subject))).toBe(true);
    first.close();
    const cursor = first.events[0]!.id;
    const resumed = sseClient(`${f.gw.url}/v1/subscribe?subject=orders.%3E`, { authorization: `Bearer ${AGENT}`, "last-event-id": cursor });
    open.push(resumed);
    await expect.poll(() => resumed.envelopes().length, { timeout: 5_000 }).toBe(2);
    expect(resumed.envelopes().map((e) => e.subject)).toEqual(["orders.secret.x.y", "orders.shipped"]);
  });

  it.each(["orders.secret.*", "orders.secret.x"])("sse - %s lies wholly inside the deny: 403 naming the client", async (subject) => {
    const res = await f.gw.fetch(`/v1/subscribe?subject=${encodeURIComponent(subject)}`, { headers: { authorization: `Bearer ${AGENT}` } });
    expect(res.status).toBe(403);
    expect((await res.json()).detail).toBe(`client agent may not subscribe to ${subject}`);
  });

  it("ws - orders.> is filtered the same way; orders.secret.* answers err 403", async () => {
    const ws = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${AGENT}` });
    open.push(ws);
    ws.send({ op: "sub", sid: "denied", subject: "orders.secret.*" });
    expect(await ws.next((m) => m.op === "err")).toMatchObject({ sid: "denied", status: 403, detail: "client agent may not subscribe to orders.secret.*" });
    ws.send({ op: "sub", sid: "s1", subject: "orders.>", lastEventId: "ORDERS:0" });
    await ws.next((m) => m.op === "msg" && m.subject === "orders.shipped");
    await js().publish("orders.secret.y", enc({}));
    await js().publish("orders.end", enc({}));
    await ws.next((m) => m.op === "msg" && m.subject === "orders.end");
    const subjects = ws.frames.filter((m) => m.op === "msg").map((m) => m.subject);
    expect(subjects).toEqual(["orders.created", "orders.secret.x.y", "orders.shipped", "orders.end"]);
  });

  it("sse - an allow naming $KV.public.> opens that bucket only: > beside it never carries another bucket", async () => {
    const c = sseClient(`${f.gw.url}/v1/subscribe?subject=%3E`, { authorization: `Bearer ${KV_READER}` });
    open.push(c);
    await c.opened;
    const kvm = new Kvm(f.nc);
    await (await kvm.create("secrets")).put("db-password", "hunter2");
    await (await kvm.create("public")).put("motd", "hello");
    await js().publish("orders.kv-done", enc({}));
    await expect.poll(() => c.envelopes().some((e) => e.subject === "orders.kv-done"), { timeout: 5_000 }).toBe(true);
    // Core and stream deliveries are not ordered with each other: compare as a set.
    expect(c.envelopes().map((e) => e.subject).sort()).toEqual(["$KV.public.motd", "orders.kv-done"]);
    const direct = await f.gw.fetch(`/v1/subscribe?subject=${encodeURIComponent("$KV.secrets.>")}`, { headers: { authorization: `Bearer ${KV_READER}` } });
    expect(direct.status).toBe(403);
  });

  it("queue - joining a group needs a \"subject queue\" grant; one overlapping a deny is refused (the group would lose those messages)", async () => {
    const get = (query: string) => f.gw.fetch(`/v1/subscribe?${query}`, { headers: { authorization: `Bearer ${AGENT}` } });
    const refused = await get("subject=orders.%3E&queue=workers");
    expect(refused.status).toBe(403);
    expect((await refused.json()).detail).toBe("queue group workers needs subjects client agent may receive in full; orders.> also matches denied or reserved subjects");
    const ungranted = await get("subject=orders.public.*&queue=other");
    expect(ungranted.status).toBe(403);
    expect((await ungranted.json()).detail).toBe('client agent may not join queue group other on orders.public.* (grant "orders.public.* other")');
    const ws = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${AGENT}` });
    open.push(ws);
    ws.send({ op: "sub", sid: "q", subject: "orders.>", queue: "workers" });
    expect(await ws.next((m) => m.op === "err")).toMatchObject({ sid: "q", status: 403 });
    ws.send({ op: "sub", sid: "q2", subject: "orders.public.*", queue: "intruders" });
    expect(await ws.next((m) => m.op === "err")).toMatchObject({ sid: "q2", status: 403 });
    const ok = sseClient(`${f.gw.url}/v1/subscribe?subject=orders.public.*&queue=workers`, { authorization: `Bearer ${AGENT}` });
    open.push(ok);
    await ok.opened;
    f.nc.publish("orders.public.q1", enc({ q: 1 }));
    await expect.poll(() => ok.envelopes().map((e) => e.subject)).toEqual(["orders.public.q1"]);
  });


  it("sse - a client allowed _INBOX.> sees real replies, never the gateway's own nor other consumers' JetStream deliveries", async () => {
    const c = sseClient(`${f.gw.url}/v1/subscribe?subject=_INBOX.%3E`, { authorization: `Bearer ${INBOXER}` });
    open.push(c);
    await c.opened;
    // Another NATS app reads ORDERS through its own consumer: deliveries to its inbox carry
    // the stored subjects (orders.secret.x among them) and a $JS.ACK reply.
    await js().publish("orders.secret.inbox", enc({ card: "4111" }));
    const consumer = await js().consumers.get("ORDERS");
    const m = await consumer.next();
    m?.ack();
    // The gateway's own JetStream API traffic (stream info, a KV read behind /readyz-like work).
    await f.gw.nats.streamInfo("ORDERS");
    // A genuine request/reply between two other clients.
    f.nc.publish("_INBOX.other.reply", enc({ ok: true }));
    await expect.poll(() => c.envelopes().some((e) => e.subject === "_INBOX.other.reply"), { timeout: 5_000 }).toBe(true);
    await f.nc.flush();
    const subjects = c.envelopes().map((e) => e.subject);
    // The test client's own JetStream API replies are ordinary inbox traffic; nothing else is.
    expect(subjects.every((s) => s.startsWith("_INBOX.") && !s.startsWith("_INBOX.natsgate."))).toBe(true);
    expect(JSON.stringify(c.envelopes())).not.toContain("4111");
  });
});
