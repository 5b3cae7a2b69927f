/**
 * SSE broadcast: N clients on one gateway subscribe to one subject; messages
 * published on NATS are timed from publish to delivery at every client.
 * Baseline in the same run: the same N clients as nats.js connections over
 * nats-server's own WebSocket listener.
 * Usage: npx tsx bench/sse.ts [--clients 1000,10000] [--messages 20]
 */
import { readFileSync } from "node:fs";
import { request, Agent } from "node:http";
import { cpus } from "node:os";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { wsconnect } from "@nats-io/nats-core";
import type { NatsServer } from "../test/support/nats-server.js";
import { benchArgs, natsServerWithWebSocket, reportMetrics, startProcess, fanOutConfig } from "./support.js";

const args = benchArgs();
const SIZES = (args.get("clients") ?? "1000,10000").split(",").map(Number);
const MESSAGES = Number(args.get("messages") ?? 20);
const BATCH = 500;

const now = () => performance.timeOrigin + performance.now();
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Counts deliveries per message id and records latencies. */
class Tally {
  latencies: number[] = [];
  counts = new Map<number, number>();
  #waiters = new Map<number, () => void>();
  constructor(private readonly clients: number) {}
  record(id: number, sentAt: number) {
    this.latencies.push(now() - sentAt);
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n === this.clients) this.#waiters.get(id)?.();
  }
  all(id: number, timeoutMs = 30_000): Promise<void> {
    if ((this.counts.get(id) ?? 0) >= this.clients) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`message ${id}: ${this.counts.get(id) ?? 0}/${this.clients}`)), timeoutMs);
      this.#waiters.set(id, () => (clearTimeout(t), resolve()));
    });
  }
}

const PAYLOAD = /"id":(\d+),"t":([\d.]+)/;

async function broadcast(pub: NatsConnection, subject: string, tally: Tally): Promise<void> {
  for (let id = 0; id < MESSAGES; id++) {
    pub.publish(subject, JSON.stringify({ id, t: now() }));
    await tally.all(id);
  }
}

async function sseRun(gatewayUrl: string, gatewayPid: number, pub: NatsConnection, n: number) {
  const tally = new Tally(n);
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const reqs: ReturnType<typeof request>[] = [];
  for (let opened = 0; opened < n; ) {
    const batch = Math.min(BATCH, n - opened);
    await Promise.all(
      Array.from({ length: batch }, () => new Promise<void>((resolve, reject) => {
        const req = request(`${gatewayUrl}/v1/subscribe?subject=bench.sse`, { agent }, (res) => {
          res.setEncoding("utf8");
          let ready = false;
          res.on("data", (chunk: string) => {
            if (!ready && chunk.includes("retry:")) (ready = true), resolve();
            for (const line of chunk.split("\n")) {
              const m = PAYLOAD.exec(line);
              if (m) tally.record(Number(m[1]), Number(m[2]));
            }
          });
        });
        req.on("error", reject);
        req.end();
        reqs.push(req);
      })),
    );
    opened += batch;
  }
  const rss = rssMb(gatewayPid);
  await broadcast(pub, "bench.sse", tally);
  for (const r of reqs) r.destroy();
  agent.destroy();
  return { rss, tally };
}

async function wsRun(server: NatsServer, pub: NatsConnection, n: number) {
  const tally = new Tally(n);
  const conns: NatsConnection[] = [];
  const decoder = new TextDecoder();
  for (let opened = 0; opened < n; ) {
    const batch = Math.min(BATCH, n - opened);
    const made = await Promise.all(Array.from({ length: batch }, () => wsconnect({ servers: `ws://127.0.0.1:${server.wsPort}` })));
    for (const nc of made) {
      nc.subscribe("bench.ws", {
        callback: (_e, m) => {
          const p = PAYLOAD.exec(decoder.decode(m.data));
          if (p) tally.record(Number(p[1]), Number(p[2]));
        },
      });
      conns.push(nc);
    }
    await Promise.all(made.map((nc) => nc.flush()));
    opened += batch;
  }
  await pub.flush();
  await broadcast(pub, "bench.ws", tally);
  await Promise.all(conns.map((c) => c.close()));
  return { tally };
}

async function main() {
  const server = await natsServerWithWebSocket();
  const { child: gw, url: gatewayUrl } = await startProcess({ NATS_URL: server.url, NATSGATE_CONFIG: fanOutConfig() });
  const pub = await connect({ servers: server.url });
  const idle = rssMb(gw.pid!);
  const rows: string[] = [];
  let last: { p99: number; wsP99: number; rss: number } | undefined;
  try {
    for (const n of SIZES) {
      const sse = await sseRun(gatewayUrl, gw.pid!, pub, n);
      const ws = await wsRun(server, pub, n);
      const p99 = (t: Tally) => pct([...t.latencies].sort((a, b) => a - b), 99);
      last = { p99: p99(sse.tally), wsP99: p99(ws.tally), rss: sse.rss };
      for (const [name, r, rss] of [["gateway SSE", sse.tally, sse.rss.toFixed(0)], ["nats-server WebSocket + nats.js", ws.tally, "-"]] as const) {
        const l = [...r.latencies].sort((a, b) => a - b);
        rows.push(`| ${n} | ${name} | ${rss} | ${l.length} | ${pct(l, 50).toFixed(1)} | ${pct(l, 99).toFixed(1)} |`);
      }
    }
  } finally {
    await pub.close();
    gw.kill("SIGTERM");
    await server.cleanup();
  }
  process.stdout.write(
    [
      `# SSE broadcast benchmark ${new Date().toISOString()}`,
      `machine: ${cpus().length}x ${cpus()[0]?.model}, node ${process.version}; ${MESSAGES} messages per size, published on NATS; gateway idle RSS ${idle.toFixed(0)} MB`,
      "",
      "| clients | path | gateway RSS MB | deliveries | p50 ms | p99 ms |",
      "|---:|---|---:|---:|---:|---:|",
      ...rows,
    ].join("\n") + "\n",
  );
  // The suite's targets, at the largest size: p99, the ratio to nats-server's own WebSocket, RSS.
  reportMetrics({ clients: SIZES.at(-1)!, p99Ms: last!.p99, p99RatioToNatsWs: last!.p99 / last!.wsP99, rssMb: last!.rss });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
