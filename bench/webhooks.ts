/**
 * Outbound webhook throughput and latency: events published to JetStream,
 * delivered signed by the gateway (a child process, its built output) to a
 * local sink in this process, beside a baseline in the same run — the same
 * signed requests posted straight to the sink by a plain Node process.
 * Usage: npx tsx bench/webhooks.ts [--events 20000] [--rate 200] [--seconds 5]
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../test/support/nats-server.js";
import { benchArgs, startProcess, reportMetrics } from "./support.js";

const args = benchArgs();
const EVENTS = Number(args.get("events") ?? 20_000);
const RATE = Number(args.get("rate") ?? 200);
const SECONDS = Number(args.get("seconds") ?? 5);
const CONCURRENCY = Number(args.get("concurrency") ?? 16);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const now = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** A sink that counts deliveries per path and the latency from the `t` in each body. */
async function sink() {
  const got = new Map<string, { n: number; latencies: number[]; first: number; last: number; waiters: (() => void)[]; want: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = now();
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const g = got.get(req.url!)!;
      g.n++;
      g.latencies.push(at - body.data.t);
      g.first ||= at;
      g.last = at;
      if (g.n >= g.want) for (const w of g.waiters.splice(0)) w();
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    expect(path: string, want: number) {
      const g = { n: 0, latencies: [] as number[], first: 0, last: 0, waiters: [] as (() => void)[], want };
      got.set(path, g);
      return { g, done: new Promise<void>((r) => g.waiters.push(r)) };
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

async function main() {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "BENCH", subjects: ["bench.>"] });
  const js = jetstream(nc);
  const s = await sink();
  const configFile = join(mkdtempSync(join(tmpdir(), "natsgate-bench-")), "config.json");
  writeFileSync(configFile, JSON.stringify({ webhooks: { allowPrivateNetworks: true } }));
  const { child: gw, url } = await startProcess({ NATS_URL: server.url, NATSGATE_CONFIG: configFile }, undefined, /webhooks ready/);
  const api = (path: string, body: unknown) => fetch(url + path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const rows: string[] = [];
  const natsVersion = nc.info?.version;
  try {
    // Baseline: the same signed requests straight from a Node process.
    {
      const { g, done } = s.expect("/base", EVENTS);
      const sender = spawn(process.execPath, ["--import", "tsx", "bench/webhook-sender.ts", `${s.url}/base`, String(EVENTS), String(CONCURRENCY)], { cwd: ROOT, stdio: "inherit" });
      await done;
      await new Promise((r) => sender.once("exit", r));
      // From the first arrival: the sender's own start-up (tsx) is not delivery time.
      const rate = ((EVENTS - 1) / (g.last - g.first)) * 1000;
      rows.push(`| baseline: Node posting signed requests, no NATS | 1 | ${EVENTS} | ${Math.round(rate)} | 1.00 | – | – |`);
      (globalThis as { baseRate?: number }).baseRate = rate;
    }
    const baseRate = (globalThis as { baseRate?: number }).baseRate!;
    let single = 0;
    for (const hooks of [1, 10]) {
      const subject = `bench.h${hooks}`;
      const events = hooks === 1 ? EVENTS : Math.floor(EVENTS / hooks);
      const waits = [];
      for (let h = 0; h < hooks; h++) {
        const res = await api("/v1/webhooks", { id: `b${hooks}_${h}`, subjects: [subject], url: `${s.url}/h${hooks}_${h}`, secret: SECRET, concurrency: CONCURRENCY });
        if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${await res.text()}`);
        waits.push(s.expect(`/h${hooks}_${h}`, events));
      }
      const acks = [];
      for (let i = 0; i < events; i++) acks.push(js.publish(subject, JSON.stringify({ i, t: now() })));
      await Promise.all(acks);
      await Promise.all(waits.map((w) => w.done));
      const last = Math.max(...waits.map((w) => w.g.last));
      const first = Math.min(...waits.map((w) => w.g.first));
      const delivered = events * hooks;
      // From the first arrival, as for the baseline (publishing overlaps delivery).
      const rate = ((delivered - 1) / (last - first)) * 1000;
      const lat = waits.flatMap((w) => w.g.latencies);
      if (hooks === 1) single = rate;
      rows.push(`| gateway, ${hooks} webhook${hooks > 1 ? "s" : ""} on one subject (burst) | ${hooks} | ${delivered} | ${Math.round(rate)} | ${(rate / baseRate).toFixed(2)} | ${pct(lat, 50).toFixed(0)} | ${pct(lat, 99).toFixed(0)} |`);
    }
    reportMetrics({ deliveriesPerS: single, baselineRatio: single / baseRate });
    // Latency at a steady rate, one webhook.
    {
      const res = await api("/v1/webhooks", { id: "steady", subjects: ["bench.steady"], url: `${s.url}/steady`, secret: SECRET });
      if (res.status !== 201) throw new Error(`create webhook: ${res.status}`);
      const total = RATE * SECONDS;
      const { g, done } = s.expect("/steady", total);
      for (let i = 0; i < total; i++) {
        void js.publish("bench.steady", JSON.stringify({ i, t: now() }));
        await new Promise((r) => setTimeout(r, 1000 / RATE));
      }
      await done;
      rows.push(`| gateway, 1 webhook at ${RATE} events/s for ${SECONDS} s | 1 | ${total} | – | – | ${pct(g.latencies, 50).toFixed(1)} | ${pct(g.latencies, 99).toFixed(1)} |`);
    }
  } finally {
    gw.kill("SIGTERM");
    await nc.close();
    await s.close();
    await server.cleanup();
  }
  process.stdout.write(
    [
      `# Webhook delivery benchmark ${new Date().toISOString()}`,
      `machine: ${cpus().length}x ${cpus()[0]?.model}, node ${process.version}; nats-server ${natsVersion}; sink, publisher and gateway share the cores`,
      `every request signed (Standard Webhooks, HMAC-SHA256); ${CONCURRENCY} requests in flight per webhook; latency = publish to arrival at the sink`,
      "",
      "| run | webhooks | deliveries | deliveries/s | ratio | p50 ms | p99 ms |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...rows,
    ].join("\n") + "\n",
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
