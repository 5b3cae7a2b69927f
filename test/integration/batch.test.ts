import { describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { startGateway } from "../support/gateway.js";
import { collector, text } from "../support/nats.js";
import { transferCompleted } from "../fixtures/events.js";

describe("publish (batch)", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "BULK", subjects: ["bulk.>"] }, { name: "EVENTS", subjects: ["transfer.>"] }, { name: "HDRS", subjects: ["hdrs.>"] }] },
  });

  const batch = (body: string, contentType = "application/x-ndjson") =>
    f.gw.fetch("/v1/publish", { method: "POST", body, headers: { "content-type": contentType } });

  it("batch - NDJSON: one result per item in order; bad items fail alone", async () => {
    const sub = await collector(f.nc, "metrics.>");
    const lines = [
      JSON.stringify({ subject: "metrics.cpu", data: { v: 1 }, headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "NatsH-Host": "n1" } }),
      JSON.stringify({ subject: "metrics.*", data: 1 }),
      "{not json",
      JSON.stringify({ subject: "transfer.completed", data: transferCompleted, headers: { "Idempotency-Key": "b-1" } }),
      JSON.stringify({ subject: "transfer.completed", data: { transferId: "x" } }),
      JSON.stringify({ subject: "$SYS.x", data: {} }),
      JSON.stringify({ data: {} }),
      JSON.stringify({ subject: "metrics.mem" }),
      "",
      JSON.stringify({ subject: "metrics.mem", data: { v: 2 } }),
    ];
    const res = await batch(lines.join("\n") + "\n");
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results.map((r: { index: number; status: number }) => [r.index, r.status])).toEqual([
      [0, 202],
      [1, 400],
      [2, 400],
      [3, 201],
      [4, 422],
      [5, 403],
      [6, 400],
      [7, 400],
      [8, 202],
    ]);
    expect(results[0]).toEqual({ index: 0, status: 202, subject: "metrics.cpu" });
    expect(results[3]).toEqual({ index: 3, status: 201, subject: "transfer.completed", stream: "EVENTS", seq: 1, duplicate: false });
    expect(results[2]).toMatchObject({ title: "Malformed JSON" });
    expect(results[4].errors.length).toBeGreaterThan(0);
    expect(results[7].detail).toBe("data is required (use null for an empty event)");

    const msgs = await sub.next(2);
    expect(msgs.map((m) => [m.subject, text(m)])).toEqual([
      ["metrics.cpu", '{"v":1}'],
      ["metrics.mem", '{"v":2}'],
    ]);
    expect(msgs[0]!.headers!.get("traceparent")).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(msgs[0]!.headers!.get("Host")).toBe("n1");
    expect(msgs[0]!.headers!.get("Content-Type")).toBe("application/json");
    const stored = await f.jsm.streams.getMessage("EVENTS", { seq: 1 });
    expect(stored!.header.get("Nats-Msg-Id")).toBe("b-1");
    sub.unsubscribe();
  });

  it("batch - JSON array works the same; a non-array is 400; other content types are 415", async () => {
    const res = await batch(JSON.stringify([{ subject: "arr.one", data: "x" }, { subject: "arr two", data: 1 }]), "application/json");
    expect(res.status).toBe(200);
    expect((await res.json()).results.map((r: { status: number }) => r.status)).toEqual([202, 400]);

    const notArray = await batch(JSON.stringify({ subject: "a", data: 1 }), "application/json");
    expect(notArray.status).toBe(400);
    expect(notArray.headers.get("content-type")).toBe("application/problem+json");

    const malformed = await batch("[{", "application/json");
    expect(malformed.status).toBe(400);

    const wrongType = await batch("a", "text/plain");
    expect(wrongType.status).toBe(415);
  });

  it("batch - an item over the size limit is 413 while the others publish", async () => {
    const big = "z".repeat(1024 * 1024 + 1);
    const body = [JSON.stringify({ subject: "size.small", data: 1 }), JSON.stringify({ subject: "size.big", data: big })].join("\n");
    const { results } = await (await batch(body)).json();
    expect(results.map((r: { status: number }) => r.status)).toEqual([202, 413]);
  });

  it("batch - an item whose headers are over JetStream's 64 KiB is 431 while the others publish", async () => {
    const big = { "NatsH-Big": "x".repeat(70_000) };
    const lines = [
      JSON.stringify({ subject: "hdrs.big", data: {}, headers: big }),
      JSON.stringify({ subject: "hdrs.small", data: {} }),
      // Core NATS takes it: only a stream limits headers.
      JSON.stringify({ subject: "metrics.big", data: {}, headers: big }),
    ];
    const { results } = await (await batch(lines.join("\n"))).json();
    expect(results.map((r: { status: number }) => r.status)).toEqual([431, 201, 202]);
    expect(results[0]).toMatchObject({ title: "Headers too large", detail: "the stream capturing hdrs.big takes at most 64 KiB of headers per message" });
  });

  it("batch - 10,000 events into a stream are all acknowledged and stored in order", async () => {
    const n = 10_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ subject: `bulk.${i % 10}`, data: { i } }));
    const res = await batch(lines.join("\n"));
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results).toHaveLength(n);
    expect(results.every((r: { status: number; index: number }, i: number) => r.status === 201 && r.index === i)).toBe(true);
    const seqs = results.map((r: { seq: number }) => r.seq);
    expect(new Set(seqs).size).toBe(n);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => a - b));
    const info = await f.jsm.streams.info("BULK");
    expect(info.state.messages).toBe(n);
    const last = await f.jsm.streams.getMessage("BULK", { last_by_subj: "bulk.9" });
    expect(last!.json()).toEqual({ i: n - 1 });
  });

  it("batch - core and JetStream items leave in the batch's order, past the ack window", async () => {
    const sub = await collector(f.nc, "order.>");
    const stored = await collector(f.nc, "bulk.order");
    // 600 items, JetStream ones spread through: more acks than one window (256) holds.
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(JSON.stringify({ subject: i % 3 === 1 ? "bulk.order" : `order.${i % 5}`, data: i }));
    const { results } = await (await batch(lines.join("\n"))).json();
    expect(results.map((r: { status: number }) => r.status)).toEqual(lines.map((_, i) => (i % 3 === 1 ? 201 : 202)));
    const core = await sub.next(400);
    expect(core.map((m) => Number(text(m)))).toEqual(lines.map((_, i) => i).filter((i) => i % 3 !== 1));
    const acked = await stored.next(200);
    expect(acked.map((m) => Number(text(m)))).toEqual(lines.map((_, i) => i).filter((i) => i % 3 === 1));
    expect(results.filter((r: { seq?: number }) => r.seq !== undefined).map((r: { seq: number }) => r.seq)).toEqual(
      Array.from({ length: 200 }, (_, i) => results[1].seq + i),
    );
    sub.unsubscribe();
    stored.unsubscribe();
  });

  it("batch - 10,000 core events all reach a subscriber", async () => {
    const n = 10_000;
    const sub = await collector(f.nc, "fan.>");
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ subject: `fan.${i % 7}`, data: i }));
    const { results } = await (await batch(lines.join("\n"))).json();
    expect(results.filter((r: { status: number }) => r.status === 202)).toHaveLength(n);
    const msgs = await sub.next(n, 10_000);
    expect(msgs.map((m) => Number(text(m)))).toEqual(Array.from({ length: n }, (_, i) => i));
    sub.unsubscribe();
  });

  it("batch - while the server is frozen, every core item is 504 and every JetStream item 504, each with its own problem", async () => {
    const slow = await startGateway(f.server.url, { nats: { ackTimeoutMs: 300 } });
    try {
      await f.server.freeze();
      const lines = [0, 1, 2, 3].map((i) => JSON.stringify(i === 2 ? { subject: "transfer.completed", data: transferCompleted } : { subject: `frozen.${i}`, data: i }));
      const res = await slow.fetch("/v1/publish", { method: "POST", body: lines.join("\n"), headers: { "content-type": "application/x-ndjson" } });
      expect(res.status).toBe(200);
      const { results } = await res.json();
      const notConfirmed = {
        type: "https://natsgate.dev/problems/not-confirmed",
        title: "Not confirmed by NATS",
        status: 504,
        detail: "NATS did not confirm the message within 300 ms; it may or may not have been delivered",
      };
      expect(results).toEqual([
        { index: 0, ...notConfirmed },
        { index: 1, ...notConfirmed },
        expect.objectContaining({ index: 2, status: 504, title: "JetStream ack timeout" }),
        { index: 3, ...notConfirmed },
      ]);
    } finally {
      f.server.thaw();
      await slow.close();
    }
  });
});
