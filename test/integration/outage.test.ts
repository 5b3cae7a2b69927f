import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { publishVia, useGateway } from "../support/fixture.js";
import { collector, natsConnect, text } from "../support/nats.js";
import { rawSse } from "../support/sse.js";
import { useSink } from "../support/sink.js";
import { transferCompleted } from "../fixtures/events.js";

describe("NATS outage", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["transfer.>"] }] } });
  const publish = publishVia(() => f.gw);

  it("outage - 503 with Retry-After and readyz 503 while NATS is down; publishing recovers when it returns", async () => {
    expect((await publish("orders.created", "{}")).status).toBe(202);
    expect((await f.gw.fetch("/readyz")).status).toBe(200);

    await f.server.stop();
    // The client notices the closed socket at once; wait for that, not for a fixed time.
    await expect.poll(() => f.gw.nats.connected, { timeout: 5_000, interval: 10 }).toBe(false);

    const core = await publish("orders.created", "{}");
    expect(core.status).toBe(503);
    expect(core.headers.get("retry-after")).toBe("2");
    expect(core.headers.get("content-type")).toBe("application/problem+json");
    expect(await core.json()).toEqual({
      type: "https://natsgate.dev/problems/nats-unavailable",
      title: "NATS unavailable",
      status: 503,
      detail: "NATS is not connected",
    });
    const js = await publish("transfer.completed", JSON.stringify(transferCompleted));
    expect(js.status).toBe(503);
    const batch = await f.gw.fetch("/v1/publish", {
      method: "POST",
      body: JSON.stringify({ subject: "orders.created", data: {} }),
      headers: { "content-type": "application/x-ndjson" },
    });
    expect((await batch.json()).results[0].status).toBe(503);
    const ready = await f.gw.fetch("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 503, detail: "NATS is not connected", nats: { connected: false } });
    expect((await f.gw.fetch("/healthz")).status).toBe(200);

    await f.server.restart();
    await f.gw.nats.whenReady(10_000);

    expect((await f.gw.fetch("/readyz")).status).toBe(200);
    const nc = await natsConnect(f.server.url);
    const sub = await collector(nc, "orders.created");
    const again = await publish("orders.created", '{"after":"outage"}');
    expect(again.status).toBe(202);
    expect(text((await sub.next(1))[0]!)).toBe('{"after":"outage"}');
    const stored = await publish("transfer.completed", JSON.stringify(transferCompleted));
    expect(stored.status).toBe(201);
    expect(await stored.json()).toMatchObject({ stream: "EVENTS", seq: 1 });
    await nc.close();
  });
});

describe("NATS outage - streams", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "LIVE", subjects: ["live.>"] }] } });
  /** Publishes to the stream from a client of its own, as another service would. */
  const js = async (subject: string) => {
    const nc = await natsConnect(f.server.url);
    await jetstream(nc).publish(subject, "{}");
    await nc.close();
  };

  it("outage - an SSE client on a stream subject gets the next event within seconds of a server restart (the lost consumer is renewed from its position)", async () => {
    const sse = await rawSse(`${f.gw.url}/v1/subscribe?subject=live.>`);
    await js("live.before");
    await sse.until((t) => t.includes('"subject":"live.before"'));
    await f.server.kill();
    await expect.poll(() => f.gw.nats.connected, { timeout: 5_000, interval: 10 }).toBe(false);
    await f.server.restart();
    await f.gw.nats.whenReady(10_000);
    await js("live.after");
    const start = Date.now();
    // nats.js alone notices the lost consumer on a backoff of up to 30 s.
    const text = await sse.until((t) => t.includes('"subject":"live.after"'), 5_000);
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(text.match(/^id: LIVE:\d+$/gm)).toEqual(["id: LIVE:1", "id: LIVE:2"]);
    sse.close();
  }, 30_000);

  it("outage - a renewal that fails once is retried in full: the stream is still read afterwards", async () => {
    const sse = await rawSse(`${f.gw.url}/v1/subscribe?subject=live.>`);
    await js("live.once.before");
    await sse.until((t) => t.includes('"subject":"live.once.before"'));
    await f.server.kill();
    await expect.poll(() => f.gw.nats.connected, { timeout: 5_000, interval: 10 }).toBe(false);
    // A transient JetStream failure (as right after a restart) in the first renewal attempt.
    const nats = f.gw.nats as unknown as { jetstream: () => unknown };
    const real = nats.jetstream.bind(nats);
    let failures = 1;
    nats.jetstream = () => {
      if (failures-- > 0) throw new Error("transient");
      return real();
    };
    try {
      await f.server.restart();
      await f.gw.nats.whenReady(10_000);
      await expect.poll(() => failures, { timeout: 5_000 }).toBeLessThan(0);
      await js("live.once.after");
      await sse.until((t) => t.includes('"subject":"live.once.after"'), 8_000);
    } finally {
      nats.jetstream = real;
      sse.close();
    }
  }, 30_000);
});

describe("NATS outage - webhooks", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["hooked.>"] }] }, webhooks: { allowPrivateNetworks: true } });
  const sink = useSink();

  it("outage - webhook delivery resumes after NATS restarts: the event retried across the outage and one published after it both arrive", async () => {
    const accepted: string[] = [];
    let accept = false;
    sink.script("/o", (req) => {
      if (!accept) return { status: 503 };
      accepted.push(JSON.parse(req.body).subject);
      return { status: 200 };
    });
    const res = await f.gw.fetch("/v1/webhooks", { method: "POST", body: JSON.stringify({ id: "o", subjects: ["hooked.*"], url: `${sink.url}/o`, retry: { schedule: [200, 200, 200, 200, 200, 200] } }) });
    expect(res.status).toBe(201);
    const nc = await natsConnect(f.server.url);
    await jetstream(nc).publish("hooked.before", "{}");
    await nc.close();
    await sink.waitFor("/o", 1);

    await f.server.restart();
    accept = true;
    await expect.poll(() => f.gw.nats.ready, { timeout: 10_000 }).toBe(true);
    const nc2 = await natsConnect(f.server.url);
    await jetstream(nc2).publish("hooked.after", "{}");
    await nc2.close();
    await expect.poll(() => [...accepted].sort(), { timeout: 15_000 }).toEqual(["hooked.after", "hooked.before"]);
  }, 40_000);
});

describe("NATS frozen (SIGSTOP)", () => {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger("info", (line) => logs.push(JSON.parse(line)));
  const f = {} as { server: NatsServer; gw: TestGateway };
  beforeAll(async () => {
    f.server = await NatsServer.start();
    f.gw = await startGateway(f.server.url, { nats: { ackTimeoutMs: 1_500, stallTimeoutMs: 1_000 } }, { logger });
  });
  afterAll(async () => {
    f.server.thaw();
    await f.gw?.close();
    await f.server?.cleanup();
  });
  const publish = publishVia(() => f.gw);

  it("outage - a frozen server gets no 202: the publish waits for its pong and answers 504; readyz and later publishes say 503 within seconds; one log line each", async () => {
    const nc = await natsConnect(f.server.url);
    const sub = await collector(nc, "frozen.core");
    expect((await publish("frozen.core", '{"n":0}')).status).toBe(202);

    await f.server.freeze();
    const frozenAt = Date.now();
    // Sent before the gateway can know: handed to the socket, never confirmed.
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const unconfirmed = await publish("frozen.core", '{"n":1}', { traceparent });
    expect(unconfirmed.status).toBe(504);
    expect(await unconfirmed.json()).toEqual({
      type: "https://natsgate.dev/problems/not-confirmed",
      title: "Not confirmed by NATS",
      status: 504,
      detail: "NATS did not confirm the message within 1500 ms; it may or may not have been delivered",
    });
    await expect.poll(async () => (await f.gw.fetch("/readyz")).status, { timeout: 5_000, interval: 100 }).toBe(503);
    expect(Date.now() - frozenAt).toBeLessThan(3_500);
    const ready = await (await f.gw.fetch("/readyz")).json();
    expect(ready.detail).toMatch(/^NATS is not answering: a ping has waited \d+ ms$/);
    // Known not to be answered: refused before anything is handed over.
    const started = Date.now();
    const refused = await Promise.all(Array.from({ length: 50 }, (_, i) => publish("frozen.core", `{"n":${i + 2}}`)));
    expect(refused.map((r) => r.status)).toEqual(Array(50).fill(503));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await refused[0]!.json()).detail).toMatch(/^NATS is not answering: a ping has waited \d+ ms$/);
    expect((await f.gw.fetch("/healthz")).status).toBe(200);

    f.server.thaw();
    await expect.poll(async () => (await f.gw.fetch("/readyz")).status, { timeout: 5_000, interval: 50 }).toBe(200);
    expect((await publish("frozen.core", '{"n":99}')).status).toBe(202);
    // The unconfirmed one arrives after all (504 said it may); none of the 503s does.
    const got = (await sub.next(3)).map(text);
    expect(got).toEqual(['{"n":0}', '{"n":1}', '{"n":99}']);
    expect(logs.filter((l) => l.msg === "NATS stopped answering; refusing publishes until it does")).toHaveLength(1);
    expect(logs.filter((l) => l.msg === "NATS answering again")).toHaveLength(1);
    // 51 failed requests of two kinds: one line per kind.
    expect(logs.filter((l) => l.msg === "request failed").map((l) => l.status)).toEqual([504, 503]);
    // Each carries its request's id, as the response's X-Request-Id did.
    const [timedOut, unavailable] = logs.filter((l) => l.msg === "request failed").map((l) => l.requestId);
    expect(timedOut).toBe(unconfirmed.headers.get("x-request-id"));
    // And the caller's trace id, so the line is found from the trace (and the trace from the line).
    expect(logs.find((l) => l.msg === "request failed")!.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(refused.map((r) => r.headers.get("x-request-id"))).toContain(unavailable);
    await nc.close();
  }, 20_000);
});
