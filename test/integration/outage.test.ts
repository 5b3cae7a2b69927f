import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { collector, natsConnect, text } from "../support/nats.js";
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
