/**
 * Deeply nested JSON: refused at the door (server.maxJsonDepth, 400 naming the
 * key), and when another NATS client publishes it anyway, every delivery path
 * (SSE on core and stream subjects, WebSocket, webhooks) passes it on as text
 * and keeps going: the next ordinary event still arrives everywhere.
 */
import { jetstream } from "@nats-io/jetstream";
import { afterEach, describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { useSink } from "../support/sink.js";
import { sseClient, type SseClient } from "../support/sse.js";
import { webhookApi } from "../support/webhooks.js";
import { wsClient, type WsClient } from "../support/ws.js";

const nest = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
/** 5,000 levels in about 10 KB: JSON.stringify of it overflows the stack. */
const POISON = "[".repeat(5_000) + "]".repeat(5_000);

describe("deeply nested JSON", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "POISON", subjects: ["ps.>"] }] }, webhooks: { allowPrivateNetworks: true } });
  const post = publishVia(() => f.gw);
  const sink = useSink();
  const { create } = webhookApi(() => f.gw);
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });

  const tooDeep = { type: "https://natsgate.dev/problems/json-too-deep", title: "JSON too deep", status: 400, detail: "JSON nests deeper than 64 levels (server.maxJsonDepth)" };

  it("publish - 64 levels of data are accepted, 65 are 400 naming server.maxJsonDepth", async () => {
    expect((await post("deep.ok", JSON.stringify(nest(64)))).status).toBe(202);
    const res = await post("deep.no", JSON.stringify(nest(65)));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual(tooDeep);
    expect((await post("deep.no", POISON)).status).toBe(400);
  });

  it("publish - structured CloudEvents, batches and WebSocket pub frames are held to the same depth", async () => {
    const cloudEvent = (data: unknown) =>
      post("deep.ce", JSON.stringify({ specversion: "1.0", id: "1", source: "/x", type: "t", data }), { "content-type": "application/cloudevents+json" });
    expect((await cloudEvent(nest(64))).status).toBe(202);
    const deepEvent = await cloudEvent(nest(65));
    expect(deepEvent.status).toBe(400);
    expect(await deepEvent.json()).toEqual(tooDeep);
    const array = await f.gw.fetch("/v1/publish", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ subject: "deep.b", data: nest(65) }]) });
    expect(array.status).toBe(400);
    const ndjson = await f.gw.fetch("/v1/publish", {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: [JSON.stringify({ subject: "deep.b", data: nest(65) }), JSON.stringify({ subject: "deep.b", data: nest(64) })].join("\n"),
    });
    expect(ndjson.status).toBe(200);
    const { results } = await ndjson.json();
    expect(results.map((r: { status: number }) => r.status)).toEqual([400, 202]);
    const ws: WsClient = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`);
    open.push(ws);
    ws.send(`{"op":"pub","id":"p","subject":"deep.ws","data":${POISON}}`);
    // The limit named is the setting, though the frame itself is one level deeper.
    expect(await ws.next((m) => m.op === "err")).toMatchObject({ status: 400, title: "JSON too deep", detail: tooDeep.detail });
  });

  it("delivery - a poison event published straight to NATS reaches SSE, WebSocket and webhooks as text, and the next event follows", async () => {
    await create({ id: "ps", subjects: ["ps.>"], url: `${sink.url}/ps` });
    const core: SseClient = sseClient(`${f.gw.url}/v1/subscribe?subject=pc.*`);
    const stored: SseClient = sseClient(`${f.gw.url}/v1/subscribe?subject=ps.*`);
    open.push(core, stored);
    await Promise.all([core.opened, stored.opened]);
    const ws: WsClient = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`);
    open.push(ws);
    ws.send({ op: "sub", sid: "s", subject: "ps.*" });
    ws.send({ op: "ping" });
    await ws.next((m) => m.op === "pong");

    f.nc.publish("pc.poison", POISON);
    f.nc.publish("pc.next", JSON.stringify({ ok: 1 }));
    const js = jetstream(f.nc);
    await js.publish("ps.poison", POISON);
    await js.publish("ps.next", JSON.stringify({ ok: 2 }));

    await core.next(2);
    expect(core.envelopes().map((e) => [e.subject, typeof e.data])).toEqual([
      ["pc.poison", "string"],
      ["pc.next", "object"],
    ]);
    await stored.next(2);
    expect(stored.envelopes().map((e) => e.subject)).toEqual(["ps.poison", "ps.next"]);
    expect(stored.envelopes()[0]!.data).toBe(POISON);
    expect(await ws.next((m) => m.op === "msg" && m.subject === "ps.next")).toMatchObject({ data: { ok: 2 } });
    const reqs = await sink.waitFor("/ps", 2, 10_000);
    expect(reqs.map((r) => JSON.parse(r.body).subject)).toEqual(["ps.poison", "ps.next"]);
    expect(JSON.parse(reqs[0]!.body).data).toBe(POISON);
    // The connection kept reading throughout: a JetStream publish through the gateway is acknowledged.
    expect((await post("ps.after", JSON.stringify({ ok: 3 }))).status).toBe(201);
  });
});
