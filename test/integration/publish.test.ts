import { describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { startGateway } from "../support/gateway.js";
import { collector, text } from "../support/nats.js";
import { nodeAdded, transferCompleted } from "../fixtures/events.js";

const PROBLEM = "application/problem+json";

describe("publish (single event)", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "EVENTS", subjects: ["transfer.>", "deploy.>", "cluster.>"], duplicateWindow: "1m" }] },
  });
  const post = publishVia(() => f.gw);

  it("publish - core subject returns 202 and a NATS subscriber receives the exact bytes and mapped headers", async () => {
    const sub = await collector(f.nc, "orders.created");
    const body = '{"orderId": "o-1",  "total": 12.5}';
    const res = await post("orders.created", body, {
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "vendor=abc",
      baggage: "tenant=acme",
      "NatsH-X-Tenant": "acme",
      "Idempotency-Key": "key-1",
      "x-not-forwarded": "nope",
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ subject: "orders.created" });
    const [msg] = await sub.next(1);
    expect(text(msg!)).toBe(body);
    const h = msg!.headers!;
    expect(h.get("traceparent")).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(h.get("tracestate")).toBe("vendor=abc");
    expect(h.get("baggage")).toBe("tenant=acme");
    expect(h.get("X-Tenant")).toBe("acme");
    expect(h.get("Nats-Msg-Id")).toBe("key-1");
    expect(h.get("Content-Type")).toBe("application/json");
    expect(h.keys().sort()).toEqual(["Content-Type", "Nats-Msg-Id", "X-Tenant", "baggage", "traceparent", "tracestate"]);
    sub.unsubscribe();
  });

  it("publish - stream-captured subject returns 201 with stream and seq, stored as sent", async () => {
    const body = JSON.stringify(transferCompleted);
    const res = await post("transfer.completed", body);
    expect(res.status).toBe(201);
    const ack = await res.json();
    expect(ack).toEqual({ subject: "transfer.completed", stream: "EVENTS", seq: expect.any(Number), duplicate: false });
    const stored = await f.jsm.streams.getMessage("EVENTS", { seq: ack.seq });
    expect(stored!.subject).toBe("transfer.completed");
    expect(stored!.string()).toBe(body);
    expect(stored!.header.get("Content-Type")).toBe("application/json");
  });

  it("publish - Idempotency-Key de-duplicates: the second publish is a duplicate with the same seq", async () => {
    const before = (await f.jsm.streams.info("EVENTS")).state.messages;
    const headers = { "Idempotency-Key": "dedup-1" };
    const first = await (await post("cluster.dev.nodeAdded", JSON.stringify(nodeAdded), headers)).json();
    const second = await post("cluster.dev.nodeAdded", JSON.stringify(nodeAdded), headers);
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual({ subject: "cluster.dev.nodeAdded", stream: "EVENTS", seq: first.seq, duplicate: true });
    expect((await f.jsm.streams.info("EVENTS")).state.messages).toBe(before + 1);
  });

  it("publish - Expect-Stream and Expect-Last-Sequence: 201 when they hold, 409 and 412 when not", async () => {
    const event = JSON.stringify(transferCompleted);
    const ok = await post("transfer.completed", event, { "Expect-Stream": "EVENTS" });
    expect(ok.status).toBe(201);
    const { seq } = await ok.json();

    const wrongStream = await post("transfer.completed", event, { "Expect-Stream": "OTHER" });
    expect(wrongStream.status).toBe(409);
    expect(wrongStream.headers.get("content-type")).toBe(PROBLEM);
    expect((await wrongStream.json()).type).toBe("https://natsgate.dev/problems/stream-mismatch");

    const wrongSeq = await post("transfer.completed", event, { "Expect-Last-Sequence": String(seq + 100) });
    expect(wrongSeq.status).toBe(412);
    expect((await wrongSeq.json()).title).toBe("Precondition failed");

    const rightSeq = await post("transfer.completed", event, { "Expect-Last-Sequence": String(seq) });
    expect(rightSeq.status).toBe(201);
    expect((await rightSeq.json()).seq).toBe(seq + 1);

    const coreWithStream = await post("orders.created", "{}", { "Expect-Stream": "EVENTS" });
    expect(coreWithStream.status).toBe(409);
    const badSeq = await post("transfer.completed", event, { "Expect-Last-Sequence": "soon" });
    expect(badSeq.status).toBe(400);
  });

  it("publish - schema violation is 422 with the exact issue list, and nothing is published", async () => {
    const before = (await f.jsm.streams.info("EVENTS")).state.messages;
    const res = await post("transfer.completed", JSON.stringify({ ...transferCompleted, sizeBytes: -1, completedAt: "yesterday" }));
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe(PROBLEM);
    expect(await res.json()).toEqual({
      type: "https://natsgate.dev/problems/schema-violation",
      title: "Schema violation",
      status: 422,
      detail: "event for transfer.completed violates its schema (2 issue(s))",
      errors: [
        { path: "/sizeBytes", message: "Too small: expected number to be >=0" },
        { path: "/completedAt", message: "Invalid ISO datetime" },
      ],
    });
    expect((await f.jsm.streams.info("EVENTS")).state.messages).toBe(before);
  });

  it("publish - wildcard schema cluster.*.nodeAdded applies to every cluster", async () => {
    const res = await post("cluster.prod.nodeAdded", JSON.stringify({ cluster: "prod" }));
    expect(res.status).toBe(422);
    expect((await res.json()).errors).toEqual([
      { path: "/node", message: "Invalid input: expected object, received undefined" },
      { path: "/addedAt", message: "Invalid input: expected string, received undefined" },
    ]);
  });

  it("publish - malformed JSON is 400 and the gateway keeps serving", async () => {
    for (const body of ["{", "", "{'a':1}", "\xff"]) {
      const res = await post("orders.created", body);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe(PROBLEM);
      expect((await res.json()).type).toBe("https://natsgate.dev/problems/malformed-json");
    }
    expect((await post("orders.created", "{}")).status).toBe(202);
  });

  it("publish - non-JSON content passes through as bytes where no schema applies, 415 where one does", async () => {
    const sub = await collector(f.nc, "logs.raw");
    const res = await post("logs.raw", "plain text\n", { "content-type": "text/plain" });
    expect(res.status).toBe(202);
    const [msg] = await sub.next(1);
    expect(text(msg!)).toBe("plain text\n");
    expect(msg!.headers!.get("Content-Type")).toBe("text/plain");
    sub.unsubscribe();

    const refused = await post("transfer.completed", "plain", { "content-type": "text/plain" });
    expect(refused.status).toBe(415);
    expect(await refused.json()).toMatchObject({ status: 415, title: "Unsupported media type" });
  });

  it.each([
    ["empty token", "a..b"],
    ["leading dot", ".a"],
    ["trailing dot", "a."],
    ["star wildcard", "a.*"],
    ["full wildcard", "a.>"],
    ["star inside a token", "a*b"],
    ["space", "a%20b"],
    ["tab", "a%09b"],
    ["control character", "a%01b"],
    ["DEL", "a%7Fb"],
    ["line separator", "a%E2%80%A8b"],
    ["undecodable percent", "a%ZZb"],
    ["lone percent", "a%"],
    ["too long", "a".repeat(257)],
  ])("publish - bad subject (%s) is 400 problem+json", async (_name, subject) => {
    const res = await post(subject, "{}");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe(PROBLEM);
    const problem = await res.json();
    expect(problem.type).toBe("https://natsgate.dev/problems/invalid-subject");
    expect(problem.status).toBe(400);
  });

  it.each(["$SYS.REQ.SERVER.PING", "$JS.API.INFO", "$KV.bucket.key", "$O.store.x", "_INBOX.abc"])(
    "publish - reserved subject %s is 403",
    async (subject) => {
      const res = await post(subject, "{}");
      expect(res.status).toBe(403);
      expect(res.headers.get("content-type")).toBe(PROBLEM);
      expect((await res.json()).detail).toBe(`subject ${subject} is reserved for the NATS server`);
    },
  );

  it("publish - a 5 MiB body is 413 (declared length), so is a chunked body over the limit", async () => {
    const big = "x".repeat(5 * 1024 * 1024);
    const res = await post("logs.raw", big, { "content-type": "text/plain" });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ status: 413, limit: 1024 * 1024 });

    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("y".repeat(512 * 1024)));
        controller.close();
      },
    });
    const chunked = await f.gw.fetch("/v1/publish/logs.raw", {
      method: "POST",
      body: chunks,
      headers: { "content-type": "text/plain" },
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await post("orders.created", "{}")).status).toBe(202);
  });

  it("publish - structured CloudEvent: data is the payload, attributes travel as ce-* headers", async () => {
    const sub = await collector(f.nc, "cluster.edge.nodeAdded");
    const ce = {
      specversion: "1.0",
      id: "evt-1",
      source: "/agents/edge",
      type: "cluster.nodeAdded",
      time: "2026-11-24T20:00:00Z",
      datacontenttype: "application/json",
      tenant: "acme",
      data: { ...nodeAdded, cluster: "edge" },
    };
    const res = await post("cluster.edge.nodeAdded", JSON.stringify(ce), { "content-type": "application/cloudevents+json" });
    expect(res.status).toBe(201);
    const [msg] = await sub.next(1);
    expect(JSON.parse(text(msg!))).toEqual(ce.data);
    const h = msg!.headers!;
    expect(h.get("ce-specversion")).toBe("1.0");
    expect(h.get("ce-id")).toBe("evt-1");
    expect(h.get("ce-source")).toBe("/agents/edge");
    expect(h.get("ce-type")).toBe("cluster.nodeAdded");
    expect(h.get("ce-time")).toBe("2026-11-24T20:00:00Z");
    expect(h.get("ce-tenant")).toBe("acme");
    expect(h.get("Content-Type")).toBe("application/json");
    sub.unsubscribe();

    const invalid = await post("cluster.edge.nodeAdded", JSON.stringify({ ...ce, data: { cluster: "edge" } }), {
      "content-type": "application/cloudevents+json",
    });
    expect(invalid.status).toBe(422);
  });

  it("publish - binary-mode CloudEvent keeps its ce-* headers; missing required attributes are 400", async () => {
    const sub = await collector(f.nc, "audit.login");
    const headers = { "ce-specversion": "1.0", "ce-id": "b-1", "ce-source": "/portal", "ce-type": "login" };
    const res = await post("audit.login", '{"user":"u1"}', headers);
    expect(res.status).toBe(202);
    const [msg] = await sub.next(1);
    expect(msg!.headers!.get("ce-id")).toBe("b-1");
    expect(msg!.headers!.get("ce-type")).toBe("login");
    expect(text(msg!)).toBe('{"user":"u1"}');
    sub.unsubscribe();

    const missing = await post("audit.login", "{}", { "ce-specversion": "1.0", "ce-id": "b-2" });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      title: "Invalid CloudEvent",
      errors: [
        { path: "ce-source", message: "required attribute source is missing or empty" },
        { path: "ce-type", message: "required attribute type is missing or empty" },
      ],
    });
  });

  it("publish - unknown route and wrong method are 404 problem+json", async () => {
    const res = await f.gw.fetch("/v1/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe(PROBLEM);
    expect((await f.gw.fetch("/v1/publish/a.b")).status).toBe(404);
  });

  it("publish - JetStream ack timeout is 504 while the server is frozen", async () => {
    const slow = await startGateway(f.server.url, { nats: { ackTimeoutMs: 300 } });
    try {
      await f.server.freeze();
      const res = await slow.fetch("/v1/publish/transfer.completed", {
        method: "POST",
        body: JSON.stringify(transferCompleted),
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(504);
      expect(await res.json()).toMatchObject({ status: 504, title: "JetStream ack timeout" });
    } finally {
      f.server.thaw();
      await slow.close();
    }
  });
});
