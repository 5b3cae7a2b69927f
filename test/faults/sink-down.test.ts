/**
 * Fault: a webhook destination is down for 30 s (20 s connection refused, then
 * 10 s answering 503), then back on the same port. Every event published before
 * and during the outage is delivered, and nothing is dead-lettered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { pause, report, startFlakySink, until, type FlakySink } from "./harness.js";

const ADMIN = "sink-down-admin-token";
const REFUSED_MS = 20_000;
const UNAVAILABLE_MS = 10_000;
/** Events published per second while the sink is down. */
const RATE = 10;
/** Retries spread over ~52 s (plus up to 10 % jitter): longer than the outage, however early an event failed. */
const SCHEDULE = [250, 500, 1_000, 2_000, ...Array(16).fill(3_000)];

describe("fault: webhook sink down for 30 s", () => {
  let server: NatsServer;
  let sink: FlakySink;
  let gw: TestGateway;
  const auth = { authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    server = await NatsServer.start();
    sink = await startFlakySink();
    gw = await startGateway(server.url, {
      auth: { mode: "required", clients: [{ name: "ops", token: ADMIN, admin: true, publish: { allow: ["sd.>"] } }] },
      jetstream: { streams: [{ name: "SD", subjects: ["sd.>"] }] },
      webhooks: { allowPrivateNetworks: true, endpoints: [{ id: "down", subjects: ["sd.>"], url: `${sink.url}/hook`, timeoutMs: 1_000, retry: { schedule: SCHEDULE } }] },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await server?.cleanup();
  });

  const publish = async (n: number): Promise<number> => {
    const res = await gw.fetch(`/v1/publish/sd.e${n % 5}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ n }) });
    expect(res.status).toBe(201);
    return (await res.json()).seq;
  };

  it("every event published before and during the outage is delivered once it is back; no dead letters", async () => {
    const seqs: number[] = [];
    for (let n = 0; n < 50; n++) seqs.push(await publish(n));
    const delivered = () => new Set(sink.received.filter((r) => r.status === 200).map((r) => r.id));
    await until("the first 50 delivered", () => (seqs.every((s) => delivered().has(`msg_SD_${s}`)) ? true : undefined), 10_000);

    await sink.down();
    const downAt = Date.now();
    const receivedBefore = sink.received.length;
    let n = 50;
    const publishFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        seqs.push(await publish(n++));
        await pause(1_000 / RATE);
      }
    };
    await publishFor(REFUSED_MS);
    const receivedWhileRefused = sink.received.length - receivedBefore;
    sink.status = 503;
    await sink.up();
    await publishFor(UNAVAILABLE_MS);
    const answered503 = sink.received.length - receivedBefore;
    sink.status = 200;
    const upAt = Date.now();

    const expected = seqs.map((s) => `msg_SD_${s}`);
    const allAt = await until("every event delivered", () => (expected.every((id) => delivered().has(id)) ? Date.now() : undefined), 20_000).catch(() => -1);
    const ok = sink.received.filter((r) => r.status === 200 && r.at >= upAt);
    const okIds = new Set(ok.map((r) => r.id));
    const deadLetters = (await (await gw.fetch("/v1/dead-letters", { headers: auth })).json()).deadLetters;

    report("sink-down", {
      outageMs: upAt - downAt,
      published: seqs.length,
      publishedDuringOutage: seqs.length - 50,
      deliveredUnique: delivered().size,
      requestsReceivedWhileRefused: receivedWhileRefused,
      answered503: answered503,
      deliveredAfterBack: okIds.size,
      duplicateDeliveriesAfterBack: ok.length - okIds.size,
      allDeliveredMsAfterBack: allAt === -1 ? -1 : allAt - upAt,
      deadLetters: deadLetters.length,
    });

    expect(receivedWhileRefused).toBe(0);
    expect(expected.filter((id) => !delivered().has(id))).toEqual([]);
    expect([...delivered()].filter((id) => !expected.includes(id))).toEqual([]);
    expect(deadLetters).toEqual([]);
    expect((await (await gw.fetch("/v1/dead-letters?webhook=down", { headers: auth })).json()).deadLetters).toEqual([]);
  }, 90_000);
});
