import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { useSink } from "../support/sink.js";
import { webhookApi } from "../support/webhooks.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

describe("outbound webhooks - delivery", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "EVENTS", subjects: ["wh.>"] }] },
    webhooks: { allowPrivateNetworks: true },
  });
  const publish = publishVia(() => f.gw);
  const sink = useSink();

  const { create, deadLetters } = webhookApi(() => f.gw);
  const deliveries = async (id: string) => (await (await f.gw.fetch(`/v1/webhooks/${id}/deliveries`)).json()).deliveries;

  it("webhooks - a published event arrives signed; standardwebhooks verifies it and the body is the envelope", async () => {
    await create({ id: "signed", subjects: ["wh.signed.*"], url: `${sink.url}/signed`, secret: SECRET });
    const res = await publish("wh.signed.created", JSON.stringify({ image: "alpine:3.20" }), {
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    expect(res.status).toBe(201);
    const { seq } = await res.json();
    const [req] = await sink.waitFor("/signed", 1);
    const payload = new Webhook(SECRET).verify(req!.body, req!.headers as Record<string, string>);
    expect(payload).toEqual({
      subject: "wh.signed.created",
      data: { image: "alpine:3.20" },
      headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "Content-Type": "application/json" },
      stream: "EVENTS",
      seq,
      time: expect.any(String),
    });
    expect(req!.headers["webhook-id"]).toBe(`msg_EVENTS_${seq}`);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["user-agent"]).toMatch(/^natsgate\/\d+\.\d+\.\d+/);
    expect(req!.headers.traceparent).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(Math.abs(Number(req!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("webhooks - two secrets during rotation give two signatures, each verifiable alone", async () => {
    await create({ id: "rotating", subjects: ["wh.rotating.*"], url: `${sink.url}/rotating`, secret: [SECRET, OLD_SECRET] });
    await publish("wh.rotating.x", JSON.stringify({ n: 1 }));
    const [req] = await sink.waitFor("/rotating", 1);
    expect(String(req!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    for (const s of [SECRET, OLD_SECRET]) expect(new Webhook(s).verify(req!.body, req!.headers as Record<string, string>)).toMatchObject({ data: { n: 1 } });
    expect(() => new Webhook("whsec_" + Buffer.alloc(24, 7).toString("base64")).verify(req!.body, req!.headers as Record<string, string>)).toThrow();
  });

  it("webhooks - 500, 500, then 200 is three attempts with the same webhook-id, journaled newest first", async () => {
    sink.script("/flaky", (_, n) => ({ status: n < 2 ? 500 : 200, body: n < 2 ? "boom" : "ok" }));
    await create({ id: "flaky", subjects: ["wh.flaky.*"], url: `${sink.url}/flaky`, retry: { schedule: [50, 50, 50] } });
    await publish("wh.flaky.x", JSON.stringify({ n: 1 }));
    const reqs = await sink.waitFor("/flaky", 3);
    const ids = new Set(reqs.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    await expect.poll(async () => (await deliveries("flaky")).map((d: { outcome: string; status: number; attempt: number }) => [d.attempt, d.outcome, d.status])).toEqual([
      [3, "delivered", 200],
      [2, "retrying", 500],
      [1, "retrying", 500],
    ]);
    const [, second] = await deliveries("flaky");
    expect(second).toMatchObject({ webhookId: [...ids][0], subject: "wh.flaky.x", stream: "EVENTS", response: "boom", nextAttemptAt: expect.any(String) });
    expect(sink.on("/flaky")).toHaveLength(3);
  });

  it("webhooks - 429 with Retry-After waits at least that long, even with a shorter schedule", async () => {
    sink.script("/limited", (_, n) => (n === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 204 }));
    await create({ id: "limited", subjects: ["wh.limited.*"], url: `${sink.url}/limited`, retry: { schedule: [20] } });
    await publish("wh.limited.x", "{}");
    const [first, second] = await sink.waitFor("/limited", 2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it("webhooks - a 400 goes to the dead letters with its status and response; retry delivers it and removes it", async () => {
    let accept = false;
    sink.script("/rejects", () => (accept ? { status: 200 } : { status: 400, body: "field amount is required" }));
    await create({ id: "rejects", subjects: ["wh.rejects.*"], url: `${sink.url}/rejects`, retry: { schedule: [20, 20] } });
    const { seq } = await (await publish("wh.rejects.x", JSON.stringify({ amount: null }))).json();
    await sink.waitFor("/rejects", 1);
    let letters: any[] = [];
    await expect
      .poll(async () => {
        letters = await deadLetters("rejects");
        return letters.length;
      })
      .toBe(1);
    expect(letters[0]).toMatchObject({
      id: expect.any(Number),
      webhook: "rejects",
      webhookId: `msg_EVENTS_${seq}`,
      reason: "HTTP 400",
      attempts: 1,
      status: 400,
      response: "field amount is required",
      event: { subject: "wh.rejects.x", data: { amount: null }, stream: "EVENTS", seq },
    });
    expect(sink.on("/rejects")).toHaveLength(1);
    const failed = await f.gw.fetch(`/v1/dead-letters/${letters[0].id}/retry`, { method: "POST" });
    expect(failed.status).toBe(502);
    expect((await failed.json()).attempt).toMatchObject({ status: 400 });
    accept = true;
    const ok = await f.gw.fetch(`/v1/dead-letters/${letters[0].id}/retry`, { method: "POST" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ delivered: true, status: 200, webhookId: `msg_EVENTS_${seq}` });
    expect(sink.on("/rejects").at(-1)!.headers["webhook-id"]).toBe(`msg_EVENTS_${seq}`);
    expect(await deadLetters("rejects")).toEqual([]);
    expect((await f.gw.fetch(`/v1/dead-letters/${letters[0].id}/retry`, { method: "POST" })).status).toBe(404);
  });

  it("webhooks - a redirect is not followed: the event is dead-lettered and the Location is never requested", async () => {
    sink.script("/moved", () => ({ status: 302, headers: { location: `${sink.url}/elsewhere` } }));
    await create({ id: "moved", subjects: ["wh.moved.*"], url: `${sink.url}/moved` });
    await publish("wh.moved.x", "{}");
    await expect
      .poll(async () => (await deadLetters("moved")).map((l: any) => [l.reason, l.status]))
      .toEqual([["HTTP 302 (redirects are not followed)", 302]]);
    expect(sink.on("/elsewhere")).toEqual([]);
  });

  it("webhooks - 410 disables the webhook; the event is held and delivered once it is enabled again", async () => {
    let gone = true;
    sink.script("/gone", () => ({ status: gone ? 410 : 200 }));
    const hook = await create({ id: "gone", subjects: ["wh.gone.*"], url: `${sink.url}/gone`, retry: { schedule: [20] } });
    await publish("wh.gone.x", JSON.stringify({ n: 1 }));
    await sink.waitFor("/gone", 1);
    await expect.poll(async () => (await (await f.gw.fetch("/v1/webhooks/gone")).json()).enabled).toBe(false);
    const disabled = await (await f.gw.fetch("/v1/webhooks/gone")).json();
    expect(disabled.disabledReason).toBe("the destination answered 410 Gone");
    gone = false;
    const { createdAt: _c, updatedAt: _u, source: _s, secrets: _n, disabledReason: _r, disabledBy: _b, ...spec } = { ...hook, enabled: true };
    const put = await f.gw.fetch("/v1/webhooks/gone", { method: "PUT", body: JSON.stringify(spec), headers: { "content-type": "application/json" } });
    expect(put.status, await put.clone().text()).toBe(200);
    const reqs = await sink.waitFor("/gone", 2);
    expect(reqs[1]!.headers["webhook-id"]).toBe(reqs[0]!.headers["webhook-id"]);
    expect((await put.json()).enabled).toBe(true);
  });

  it("webhooks - a sink slower than timeoutMs counts as a failed attempt and is retried, then dead-lettered", async () => {
    sink.script("/slow", () => ({ status: 200, delayMs: 1_000 }));
    await create({ id: "slow", subjects: ["wh.slow.*"], url: `${sink.url}/slow`, timeoutMs: 200, retry: { schedule: [20] } });
    await publish("wh.slow.x", "{}");
    await sink.waitFor("/slow", 2);
    await expect
      .poll(async () => (await deadLetters("slow")).map((l: any) => [l.attempts, l.error]), { timeout: 5_000 })
      .toEqual([[2, "no complete response within 200 ms"]]);
    const [latest] = await deliveries("slow");
    expect(latest).toMatchObject({ outcome: "dead-lettered", error: "no complete response within 200 ms" });
    const metrics = await f.gw.app.metrics.text();
    expect(metrics).toMatch(/^natsgate_dead_letters_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^natsgate_webhook_deliveries_total\{outcome="dead-lettered"\} [1-9]\d*$/m);
    expect(latest.durationMs).toBeGreaterThanOrEqual(190);
    expect(latest.durationMs).toBeLessThan(900);
  });

  it("webhooks - cloudevents format posts a structured CloudEvent", async () => {
    await create({ id: "ce", subjects: ["wh.ce.*"], url: `${sink.url}/ce`, format: "cloudevents", secret: SECRET });
    const { seq } = await (await publish("wh.ce.done", JSON.stringify({ ok: true }))).json();
    const [req] = await sink.waitFor("/ce", 1);
    expect(req!.headers["content-type"]).toBe("application/cloudevents+json");
    expect(new Webhook(SECRET).verify(req!.body, req!.headers as Record<string, string>)).toEqual({
      specversion: "1.0",
      id: `msg_EVENTS_${seq}`,
      source: "/natsgate/streams/EVENTS",
      type: "wh.ce.done",
      time: expect.any(String),
      datacontenttype: "application/json",
      data: { ok: true },
    });
  });

  it("webhooks - ordered delivery holds later events until the first succeeds", async () => {
    sink.script("/ordered", (_, n) => ({ status: n < 2 ? 503 : 200 }));
    await create({ id: "ordered", subjects: ["wh.ordered.*"], url: `${sink.url}/ordered`, ordered: true, retry: { schedule: [30, 30, 30] } });
    for (let i = 1; i <= 3; i++) await publish("wh.ordered.x", JSON.stringify({ i }));
    const reqs = await sink.waitFor("/ordered", 5);
    expect(reqs.map((r) => JSON.parse(r.body).data.i)).toEqual([1, 1, 1, 2, 3]);
  });

  it("webhooks - at most `concurrency` requests are in flight per webhook", async () => {
    sink.script("/parallel", () => ({ status: 200, delayMs: 100 }));
    await create({ id: "parallel", subjects: ["wh.parallel.*"], url: `${sink.url}/parallel`, concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => publish("wh.parallel.x", JSON.stringify({ i }))));
    const reqs = await sink.waitFor("/parallel", 12);
    expect(new Set(reqs.map((r) => JSON.parse(r.body).data.i)).size).toBe(12);
    expect(sink.concurrency("/parallel").max).toBe(3);
  });

  it("webhooks - rateLimit spaces requests; custom headers are sent", async () => {
    await create({ id: "paced", subjects: ["wh.paced.*"], url: `${sink.url}/paced`, rateLimit: 5, headers: { authorization: "Bearer sink-token", "x-team": "core" } });
    for (let i = 0; i < 3; i++) await publish("wh.paced.x", JSON.stringify({ i }));
    const reqs = await sink.waitFor("/paced", 3);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(190);
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(190);
    expect(reqs[0]!.headers).toMatchObject({ authorization: "Bearer sink-token", "x-team": "core" });
  });

  it("webhooks - events queued behind a slow rateLimit keep their ack wait: no duplicates", async () => {
    // Ack wait is 2 x timeoutMs = 1 s, while the fifth event waits 2 s for its turn.
    await create({ id: "slowrate", subjects: ["wh.slowrate.*"], url: `${sink.url}/slowrate`, rateLimit: 2, timeoutMs: 500 });
    for (let i = 0; i < 5; i++) await publish("wh.slowrate.x", JSON.stringify({ i }));
    await sink.waitFor("/slowrate", 5);
    const consumer = (await f.jsm.consumers.list("EVENTS").next()).find((c) => c.name.startsWith("natsgate_wh_slowrate_"))!.name;
    await expect.poll(async () => (await f.jsm.consumers.info("EVENTS", consumer)).num_ack_pending).toBe(0);
    // Every event left the server once: none was handed out again after an expired ack wait.
    expect((await f.jsm.consumers.info("EVENTS", consumer)).delivered.consumer_seq).toBe(5);
    expect(sink.on("/slowrate").map((r) => JSON.parse(r.body).data.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it("webhooks - a definition read with GET and PUT back keeps its masked URL and header values (read-modify-write)", async () => {
    const shown = await create({ id: "roundtrip", subjects: ["wh.rt.*"], url: `${sink.url}/rt/tok3n-x9q2`, headers: { "x-token": "sink-credential" } });
    expect([shown.url, shown.headers]).toEqual([`${sink.url}/***/***`, { "x-token": "***" }]);
    const { createdAt: _c, updatedAt: _u, source: _s, secrets: _n, ...definition } = shown;
    const put = await f.gw.fetch("/v1/webhooks/roundtrip", { method: "PUT", body: JSON.stringify({ ...definition, timeoutMs: 5_000 }), headers: { "content-type": "application/json" } });
    expect(put.status).toBe(200);
    expect((await f.gw.fetch("/v1/webhooks/roundtrip/test", { method: "POST" })).status).toBe(200);
    const [req] = await sink.waitFor("/rt/tok3n-x9q2", 1);
    expect(req!.headers["x-token"]).toBe("sink-credential");
  });

  it("webhooks - POST /test sends a signed sample event now and reports the answer", async () => {
    await create({ id: "tested", subjects: ["wh.tested.*"], url: `${sink.url}/tested`, secret: SECRET });
    const res = await f.gw.fetch("/v1/webhooks/tested/test", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ webhookId: expect.stringMatching(/^msg_test_/), delivered: true, status: 200, response: "ok", durationMs: expect.any(Number) });
    const [req] = await sink.waitFor("/tested", 1);
    expect(new Webhook(SECRET).verify(req!.body, req!.headers as Record<string, string>)).toMatchObject({ subject: "natsgate.webhook.test", data: { webhook: "tested", test: true } });
  });
});

describe("outbound webhooks - replay", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["rp.>"] }] }, webhooks: { allowPrivateNetworks: true } });
  const publish = publishVia(() => f.gw);
  const sink = useSink();
  const replayConsumers = async () => {
    const names: string[] = [];
    for await (const c of f.jsm.consumers.list("EVENTS")) if (/_r[0-9a-z]+$/.test(c.name)) names.push(c.name);
    return names;
  };
  const replay = (id: string, from: string) =>
    f.gw.fetch(`/v1/webhooks/${id}/replay`, { method: "POST", body: JSON.stringify({ from }), headers: { "content-type": "application/json" } });

  it("replay - from a cursor re-delivers the events after it with their webhook-ids, then removes its consumer", async () => {
    const res = await f.gw.fetch("/v1/webhooks", { method: "POST", body: JSON.stringify({ id: "again", subjects: ["rp.a.*"], url: `${sink.url}/again` }) });
    expect(res.status).toBe(201);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await (await publish("rp.a.x", JSON.stringify({ i }))).json()).seq);
    await publish("rp.other", "{}");
    await sink.waitFor("/again", 5);
    const started = await replay("again", `EVENTS:${seqs[1]}`);
    expect(started.status).toBe(202);
    expect(await started.json()).toEqual({
      webhook: "again",
      replays: [{ stream: "EVENTS", pattern: "rp.a.*", until: seqs[4]! + 1, from: `EVENTS:${seqs[1]}`, startedAt: expect.any(String) }],
    });
    const reqs = await sink.waitFor("/again", 8);
    expect(reqs.slice(5).map((r) => r.headers["webhook-id"])).toEqual(seqs.slice(2).map((s) => `msg_EVENTS_${s}`));
    await expect.poll(replayConsumers).toEqual([]);
    await expect.poll(async () => (await (await f.gw.fetch("/v1/webhooks/again")).json()).replays).toEqual([]);
    // Live delivery goes on as before.
    await publish("rp.a.x", JSON.stringify({ i: 5 }));
    await sink.waitFor("/again", 9);
    expect(sink.on("/again")).toHaveLength(9);
  });

  it("replay - from a time; nothing to replay starts nothing; bad input is 400", async () => {
    await f.gw.fetch("/v1/webhooks", { method: "POST", body: JSON.stringify({ id: "since", subjects: ["rp.b.*"], url: `${sink.url}/since` }) });
    await publish("rp.b.x", JSON.stringify({ i: 0 }));
    // RFC 3339 here has millisecond precision, the stream's timestamps nanoseconds: step past the
    // current millisecond so the first event is strictly before t and the second after it.
    const t = new Date(Date.now() + 1).toISOString();
    await new Promise((r) => setTimeout(r, 3));
    await publish("rp.b.x", JSON.stringify({ i: 1 }));
    await sink.waitFor("/since", 2);
    expect((await replay("since", t)).status).toBe(202);
    const reqs = await sink.waitFor("/since", 3);
    expect(JSON.parse(reqs[2]!.body).data).toEqual({ i: 1 });
    const empty = await replay("since", new Date(Date.now() + 60_000).toISOString());
    expect(await empty.json()).toEqual({ webhook: "since", replays: [] });
    expect((await replay("since", "yesterday")).status).toBe(400);
    expect((await replay("since", "OTHER:5")).status).toBe(400);
    expect((await f.gw.fetch("/v1/webhooks/since/replay", { method: "POST", body: "{}" })).status).toBe(400);
    expect((await replay("nope", "EVENTS:1")).status).toBe(404);
    await expect.poll(replayConsumers).toEqual([]);
  });
});
