import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect } from "../support/nats.js";
import { portOwners, runGateway, type GatewayProcess } from "../support/process.js";
import { startSink, type Sink } from "../support/sink.js";

const EVENTS = 1_000;
const PATH_WITH_NATS = [process.env.PATH, "/usr/sbin", "/usr/local/sbin"].join(":");

describe("outbound webhooks - gateway processes", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let sink: Sink;
  let configFile: string;
  const started: GatewayProcess[] = [];

  beforeEach(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
    sink = await startSink();
    const dir = mkdtempSync(join(tmpdir(), "natsgate-wh-"));
    configFile = join(dir, "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        jetstream: { streams: [{ name: "EVENTS", subjects: ["proc.>"] }] },
        webhooks: {
          allowPrivateNetworks: true,
          endpoints: [{ id: "durable", subjects: ["proc.>"], url: `${sink.url}/durable`, timeoutMs: 1_000, concurrency: 32, retry: { schedule: [100, 100, 100] } }],
        },
      }),
    );
  });
  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.kill();
      await p.exited;
    }
    await sink.close();
    await nc.close();
    await server.cleanup();
  });

  const gateway = async () => {
    const p = runGateway(["--config", configFile], { LOG_LEVEL: "info", PORT: "0", HOST: "127.0.0.1", PATH: PATH_WITH_NATS, NATS_URL: server.url });
    started.push(p);
    await p.waitForLog("webhooks ready", 20_000);
    return p;
  };
  const publishAll = async () => {
    const js = jetstream(nc);
    const acks = [];
    for (let i = 0; i < EVENTS; i++) acks.push(js.publish(`proc.e${i % 10}`, JSON.stringify({ i })));
    return (await Promise.all(acks)).map((a) => a.seq);
  };
  const idsSeen = () => new Set(sink.on("/durable").map((r) => String(r.headers["webhook-id"])));
  const untilAllArrived = async (seqs: number[]) => {
    await expect.poll(() => idsSeen().size, { timeout: 30_000, interval: 100 }).toBe(EVENTS);
    expect([...idsSeen()].sort()).toEqual(seqs.map((s) => `msg_EVENTS_${s}`).sort());
  };
  const consumerSettled = async () => {
    const jsm = await jetstreamManager(nc);
    const name = (await jsm.consumers.list("EVENTS").next()).find((c) => c.name.startsWith("natsgate_wh_durable_"))!.name;
    await expect.poll(async () => (await jsm.consumers.info("EVENTS", name)).num_ack_pending, { timeout: 10_000 }).toBe(0);
  };

  it("process - SIGKILL while 1,000 deliveries are in flight loses nothing: after a restart every event arrives", async () => {
    sink.script("/durable", () => ({ status: 200, delayMs: 20 }));
    const first = await gateway();
    const seqs = await publishAll();
    await sink.waitFor("/durable", 200, 20_000).catch((e) => {
      throw new Error(e.message + first.output());
    });
    first.kill();
    await first.exited;
    const before = idsSeen().size;
    expect(before).toBeLessThan(EVENTS);
    await gateway();
    await untilAllArrived(seqs);
    await consumerSettled();
    const duplicates = sink.on("/durable").length - EVENTS;
    // Only what the killed process had in flight (32 at most per buffer) comes twice.
    expect(duplicates).toBeLessThanOrEqual(64);
  }, 60_000);

  it("process - two gateways share one webhook and between them deliver each event once", async () => {
    const [a, b] = await Promise.all([gateway(), gateway()]);
    sink.script("/durable", () => ({ status: 200, delayMs: 2 }));
    const seqs = await publishAll();
    await untilAllArrived(seqs);
    expect(sink.on("/durable")).toHaveLength(EVENTS);
    const owners = await portOwners([a.child.pid!, b.child.pid!]);
    const byPid = new Map<number, number>();
    for (const r of sink.on("/durable")) {
      const pid = owners.get(r.remotePort);
      if (pid !== undefined) byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
    }
    expect([...byPid.keys()].sort()).toEqual([a.child.pid, b.child.pid].sort());
    for (const count of byPid.values()) expect(count).toBeGreaterThan(EVENTS / 10);
    await consumerSettled();
  }, 60_000);
});
