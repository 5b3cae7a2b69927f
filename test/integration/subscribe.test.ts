import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { startGateway } from "../support/gateway.js";
import { gatewaySubjects } from "../support/nats.js";
import { rawSse, sseClient, type SseClient } from "../support/sse.js";
import { nodeAdded, deploymentStatus } from "../fixtures/events.js";


describe("subscribe (SSE)", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "EVENTS", subjects: ["cluster.>", "deployment.>", "resume.>"] }] },
    sse: { heartbeatMs: 200 },
  });
  const post = publishVia(() => f.gw);
  const clients: SseClient[] = [];
  const open = (query: string, headers?: Record<string, string>) => {
    const c = sseClient(`${f.gw.url}/v1/subscribe?${query}`, headers);
    clients.push(c);
    return c;
  };
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it("sse - wildcard patterns route only matching subjects, with the documented envelope and cursor ids", async () => {
    const c = open("subject=cluster.*.nodeAdded&subject=deployment.status");
    await c.opened;
    await post("cluster.dev.nodeAdded", JSON.stringify(nodeAdded), { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
    await post("cluster.dev.nodeRemoved", "{}");
    await post("deployment.status", JSON.stringify(deploymentStatus));
    const [first, second] = await c.next(2);
    expect(c.events).toHaveLength(2);
    const e1 = JSON.parse(first!.data);
    expect(e1).toEqual({
      subject: "cluster.dev.nodeAdded",
      data: nodeAdded,
      headers: { "Content-Type": "application/json", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
      stream: "EVENTS",
      seq: e1.seq,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(Object.keys(e1)).toEqual(["subject", "data", "headers", "stream", "seq", "time"]);
    expect(first!.id).toBe(`EVENTS:${e1.seq}`);
    expect(JSON.parse(second!.data)).toMatchObject({ subject: "deployment.status", stream: "EVENTS", seq: e1.seq + 2 });
    expect(second!.id).toBe(`EVENTS:${e1.seq + 2}`);
  });

  it("sse - core subjects: text payloads stay strings, NATS headers come back as NatsH-*, no id", async () => {
    const c = open("subject=chat.%3E");
    await c.opened;
    await post("chat.room1", "hello there", { "content-type": "text/plain", "NatsH-X-User": "ann" });
    const [e] = await c.next(1);
    expect(e!.id).toBe("");
    expect(JSON.parse(e!.data)).toEqual({
      subject: "chat.room1",
      data: "hello there",
      headers: { "Content-Type": "text/plain", "NatsH-X-User": "ann" },
      time: expect.any(String),
    });
  });

  it("sse - HEAD is 405 with Allow: GET and opens nothing (a stream nobody reads would never end)", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await f.gw.fetch("/v1/subscribe?subject=head.x", { method: "HEAD" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET");
    }
    expect(await gatewaySubjects(f.server.monitorUrl)).not.toContain("head.x");
  });

  it("sse - framing: retry first, heartbeat comments, proxy-safe headers", async () => {
    const raw = await rawSse(`${f.gw.url}/v1/subscribe?subject=beat.x`);
    expect(raw.res.status).toBe(200);
    expect(raw.res.headers.get("content-type")).toBe("text/event-stream");
    expect(raw.res.headers.get("cache-control")).toBe("no-cache");
    expect(raw.res.headers.get("x-accel-buffering")).toBe("no");
    const text = await raw.until((t) => t.split(":\n\n").length >= 3);
    expect(text.startsWith("retry: 2000\n\n:\n\n:\n\n")).toBe(true);
    raw.close();
  });

  it("sse - resume: 200 events missed while away are replayed in order, then it continues live", async () => {
    const c = open("subject=resume.>");
    await c.opened;
    await post("resume.a", '{"n":-1}');
    const [seen] = await c.next(1);
    c.close();
    for (let i = 0; i < 200; i++) await post(`resume.${i % 3}`, JSON.stringify({ n: i }));

    // Another replica, as after a restart or a load balancer's choice: the cursor is all it needs.
    const replica = await startGateway(f.server.url, { jetstream: { streams: [{ name: "EVENTS", subjects: ["cluster.>", "deployment.>", "resume.>"] }] } });
    try {
      const back = sseClient(`${replica.url}/v1/subscribe?subject=resume.>`, { "Last-Event-ID": seen!.id });
      clients.push(back);
      await back.next(200);
      await post("resume.live", '{"n":200}');
      await back.next(201);
      expect(back.envelopes().map((e) => e.data.n)).toEqual(Array.from({ length: 201 }, (_, i) => i));
      const seqs = back.envelopes().map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(201);

      // lastEventId as a query parameter works the same (EventSource cannot set headers).
      const q = sseClient(`${replica.url}/v1/subscribe?subject=resume.>&lastEventId=${encodeURIComponent(back.events[199]!.id)}`);
      clients.push(q);
      const [only] = await q.next(1);
      expect(JSON.parse(only!.data).data).toEqual({ n: 200 });
    } finally {
      await replica.close();
    }
  });

  it("sse - a resuming client is caught up while events keep arriving, then shares the live consumer", async () => {
    const live = open("subject=cluster.handoff.%3E");
    await live.opened;
    for (let i = 0; i < 20; i++) await post(`cluster.handoff.${i % 2}`, JSON.stringify({ n: i }));
    const all = await live.next(20);
    const cursor = all[4]!.id;
    // Resume from the 5th event while publishing continues.
    const resumed = open(`subject=cluster.handoff.%3E&lastEventId=${encodeURIComponent(cursor)}`);
    const publishing = (async () => {
      for (let i = 20; i < 120; i++) await post(`cluster.handoff.${i % 2}`, JSON.stringify({ n: i }));
    })();
    await publishing;
    await resumed.next(115, 10_000);
    await live.next(120, 10_000);
    expect(resumed.envelopes().map((e) => e.data.n)).toEqual(Array.from({ length: 115 }, (_, i) => i + 5));
    // Once caught up, the replay's consumer is gone: one consumer serves both clients.
    const consumers = async () => {
      const names: string[] = [];
      for await (const ci of f.jsm.consumers.list("EVENTS")) names.push(ci.name);
      return names.length;
    };
    await expect.poll(consumers, { timeout: 5_000 }).toBe(1);
    expect(f.gw.app.gateway.sse.feeds).toBe(1);
    await post("cluster.handoff.x", '{"n":120}');
    await resumed.next(116);
    expect(resumed.envelopes().at(-1)!.data.n).toBe(120);
  });

  it("sse - > reads the streams it overlaps: their events carry stream, seq and a cursor, and resume from it", async () => {
    const c = open("subject=%3E");
    await c.opened;
    await post("resume.wide.1", '{"n":1}');
    await post("plain.core", '{"n":2}');
    // A stream delivery and a core message take different paths: either may come first.
    const both = await c.next(2);
    const stored = both.find((e) => JSON.parse(e.data).subject === "resume.wide.1");
    const core = both.find((e) => JSON.parse(e.data).subject === "plain.core");
    expect(JSON.parse(stored!.data)).toMatchObject({ subject: "resume.wide.1", stream: "EVENTS" });
    expect(stored!.id).toBe(`EVENTS:${JSON.parse(stored!.data).seq}`);
    expect(JSON.parse(core!.data)).not.toHaveProperty("stream");
    expect(core!.id).toBe("");
    c.close();
    await post("resume.wide.2", '{"n":3}');
    await post("resume.wide.3", '{"n":4}');
    const back = open("subject=%3E", { "Last-Event-ID": stored!.id });
    await back.next(2);
    expect(back.envelopes().map((e) => [e.subject, e.data.n])).toEqual([
      ["resume.wide.2", 3],
      ["resume.wide.3", 4],
    ]);
    await post("resume.wide.4", '{"n":5}');
    await back.next(3);
    // Once each: the core subscription skips what the stream consumer delivers.
    expect(back.envelopes().map((e) => e.data.n)).toEqual([3, 4, 5]);
  });

  it("sse - a cursor naming none of the set's streams starts them at the live position", async () => {
    await post("resume.before", '{"n":"old"}');
    const c = open("subject=resume.>&lastEventId=OTHER%3A5");
    await c.opened;
    await post("resume.after", '{"n":"new"}');
    const [e] = await c.next(1);
    expect(JSON.parse(e!.data).data).toEqual({ n: "new" });
    await expect.poll(async () => {
      const names: string[] = [];
      for await (const ci of f.jsm.consumers.list("EVENTS")) names.push(ci.name);
      return names.length;
    }, { timeout: 5_000 }).toBe(1);
  });

  it("sse - deliver=all, deliver=last and since choose where a fresh subscription starts", async () => {
    for (let i = 0; i < 3; i++) await post(`cluster.hist.n${i}`, "{}");
    const all = open("subject=cluster.hist.>&deliver=all");
    expect((await all.next(3)).map((e) => JSON.parse(e.data).subject)).toEqual(["cluster.hist.n0", "cluster.hist.n1", "cluster.hist.n2"]);
    const last = open("subject=cluster.hist.>&deliver=last");
    expect((await last.next(1)).map((e) => JSON.parse(e.data).subject)).toEqual(["cluster.hist.n2"]);
    const since = open(`subject=cluster.hist.>&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    await since.opened;
    await post("cluster.hist.n3", "{}");
    expect((await since.next(1)).map((e) => JSON.parse(e.data).subject)).toEqual(["cluster.hist.n3"]);
  });

  it.each([
    ["", 400, "at least one subject parameter is required"],
    ["subject=a..b", 400, 'subject "a..b" is invalid: it has an empty token'],
    ["subject=a.b*", 400, 'subject "a.b*" is invalid: a wildcard must be a whole token'],
    ["subject=%24SYS.%3E", 403, "subject $SYS.> is reserved for the NATS server"],
    ["subject=a&deliver=sometimes", 400, 'deliver must be all, last or new, got "sometimes"'],
    ["subject=a&since=yesterday", 400, 'since must be an RFC 3339 time such as 2026-11-24T20:00:00Z, got "yesterday"'],
    // Seconds are required, as for a webhook replay's `from`: one parser for both.
    ["subject=a&since=2026-11-24T20%3A00Z", 400, 'since must be an RFC 3339 time such as 2026-11-24T20:00:00Z, got "2026-11-24T20:00Z"'],
    ["subject=a&since=2026-02-30T00%3A00%3A00Z", 400, 'since must be an RFC 3339 time such as 2026-11-24T20:00:00Z, got "2026-02-30T00:00:00Z"'],
    ["subject=a&lastEventId=garbage", 400, 'Last-Event-ID "garbage" is not a natsgate cursor (STREAM:SEQ[,STREAM:SEQ])'],
  ])("sse - bad request %j is %i problem+json, not a stream", async (query, status, detail) => {
    const res = await f.gw.fetch(`/v1/subscribe?${query}`);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await res.json()).detail).toBe(detail);
  });

  it("sse - a client that does not read gets event: overflow, the stream ends, and everything is released", async () => {
    const small = await startGateway(f.server.url, { sse: { maxBufferedMessages: 5 } });
    const socket = connect(Number(new URL(small.url).port), "127.0.0.1");
    try {
      let text = "";
      let paused = false;
      const gotHeaders = new Promise<void>((resolve) => {
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (!paused && text.includes("retry: 2000")) {
            paused = true;
            // From here on the client stops reading: the kernel buffers fill, then the gateway's queue.
            socket.pause();
            resolve();
          }
        });
      });
      socket.write("GET /v1/subscribe?subject=flood.x HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n");
      await gotHeaders;
      const big = JSON.stringify({ pad: "x".repeat(64 * 1024) });
      for (let i = 0; i < 500 && small.app.gateway.sessions.size > 0; i++) {
        await small.fetch("/v1/publish/flood.x", { method: "POST", body: big, headers: { "content-type": "application/json" } });
      }
      expect(small.app.gateway.sessions.size).toBe(0);
      expect(small.app.gateway.sse.feeds).toBe(0);
      expect(await small.app.metrics.text()).toContain('natsgate_slow_consumer_disconnects_total{transport="sse"} 1\n');
      // Read again: the buffered frames, then the overflow event, then the end of the chunked body.
      const ended = new Promise<void>((resolve) => socket.on("data", () => text.endsWith("\r\n0\r\n\r\n") && resolve()));
      socket.resume();
      await ended;
      expect(text.endsWith('event: overflow\ndata: {"reason":"overflow"}\n\n\r\n0\r\n\r\n')).toBe(true);
    } finally {
      socket.destroy();
      await small.close();
    }
  });

  it("sse - clients on one subject set share one NATS subscription, released when the last leaves", async () => {
    const many = Array.from({ length: 20 }, () => open("subject=shared.%3E"));
    await Promise.all(many.map((c) => c.opened));
    expect((await gatewaySubjects(f.server.monitorUrl)).filter((s) => s === "shared.>")).toHaveLength(1);
    await post("shared.one", '"hi"');
    await Promise.all(many.map((c) => c.next(1)));
    for (const c of many) c.close();
    await expect.poll(() => gatewaySubjects(f.server.monitorUrl), { timeout: 5_000 }).not.toContain("shared.>");
    expect(f.gw.app.gateway.sse.feeds).toBe(0);
  });

  it("sse - 1,000 connect/disconnect cycles leave no subscription, consumer or session behind", async () => {
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 1_000; i++) {
      const raw = await rawSse(`${f.gw.url}/v1/subscribe?subject=${i % 2 ? "cycle.%3E" : "cluster.cycle.%3E"}`);
      await raw.until((t) => t.startsWith("retry:"));
      raw.close();
    }
    await expect.poll(() => f.gw.app.gateway.sessions.size, { timeout: 5_000 }).toBe(0);
    expect(f.gw.app.gateway.sse.feeds).toBe(0);
    await expect.poll(() => gatewaySubjects(f.server.monitorUrl), { timeout: 5_000 }).toEqual([]);
    const consumers = [];
    for await (const ci of f.jsm.consumers.list("EVENTS")) consumers.push(ci.name);
    expect(consumers).toEqual([]);
    // The test process hosts the gateway: 1,000 cycles must not grow it by more than a few MB.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});
