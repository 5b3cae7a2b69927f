/**
 * WebSocket fan-out throughput: messages published on NATS as fast as the
 * publisher can, delivered to 1 and to 1,000 WebSocket clients of the gateway
 * (/v1/ws, sub frames), beside the same clients as nats.js connections over
 * nats-server's own WebSocket listener, in the same run.
 * Usage: npx tsx bench/ws.ts [--clients 1,1000] [--deliveries 1000000]
 */
import { cpus } from "node:os";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { wsconnect } from "@nats-io/nats-core";
import WebSocket from "ws";
import { benchArgs, fanOutConfig, natsServerWithWebSocket, reportMetrics, startProcess } from "./support.js";

const args = benchArgs();
const SIZES = (args.get("clients") ?? "1,1000").split(",").map(Number);
const DELIVERIES = Number(args.get("deliveries") ?? 1_000_000);
const BATCH = 250;
// One client fed by a publisher in its own process reads slower than the gateway now writes:
// at the default 8 MB of unsent bytes it would be closed as too far behind (as it should be in
// production). The benchmark measures delivery rate, so it lets the backlog grow.
const WS_CONFIG = { ws: { maxBufferedBytes: 512 * 1024 * 1024 } };
const PAYLOAD = JSON.stringify({ kind: "bench", value: 42, note: "x".repeat(64) });

/** Counts deliveries; resolves when `expected` have arrived. */
function counter(expected: number) {
  let n = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  return { hit: () => ++n === expected && done(), all, count: () => n };
}

async function publishAll(pub: NatsConnection, subject: string, messages: number): Promise<void> {
  for (let i = 0; i < messages; i++) {
    pub.publish(subject, PAYLOAD);
    // Let the socket drain now and then, as a real publisher's flow would.
    if (i % 1000 === 999) await pub.flush();
  }
  await pub.flush();
}

async function measure(pub: NatsConnection, subject: string, messages: number, c: ReturnType<typeof counter>): Promise<number> {
  const t0 = performance.now();
  await publishAll(pub, subject, messages);
  await Promise.race([c.all, new Promise((r) => setTimeout(r, 60_000))]);
  return (c.count() / (performance.now() - t0)) * 1000;
}

async function gatewayRun(url: string, pub: NatsConnection, n: number, messages: number) {
  const c = counter(n * messages);
  const sockets: WebSocket[] = [];
  for (let opened = 0; opened < n; opened += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, n - opened) }, () => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on("open", () => ws.send(JSON.stringify({ op: "sub", sid: "b", subject: "bench.gw" }) + "", () => ws.send('{"op":"ping"}')));
        ws.on("message", (data) => {
          const s = data.toString();
          if (s === '{"op":"pong"}') return resolve();
          if (s.startsWith('{"op":"msg"')) c.hit();
        });
        ws.on("error", reject);
        sockets.push(ws);
      })),
    );
  }
  const rate = await measure(pub, "bench.gw", messages, c);
  for (const ws of sockets) ws.terminate();
  return { rate, delivered: c.count() };
}

async function natsWsRun(port: number, pub: NatsConnection, n: number, messages: number) {
  const c = counter(n * messages);
  const conns: NatsConnection[] = [];
  for (let opened = 0; opened < n; opened += BATCH) {
    const made = await Promise.all(Array.from({ length: Math.min(BATCH, n - opened) }, () => wsconnect({ servers: `ws://127.0.0.1:${port}` })));
    for (const nc of made) nc.subscribe("bench.nws", { callback: () => void c.hit() });
    await Promise.all(made.map((nc) => nc.flush()));
    conns.push(...made);
  }
  const rate = await measure(pub, "bench.nws", messages, c);
  await Promise.all(conns.map((nc) => nc.close()));
  return { rate, delivered: c.count() };
}

async function main() {
  const server = await natsServerWithWebSocket();
  const { child: gw, url } = await startProcess({ NATS_URL: server.url, NATSGATE_CONFIG: fanOutConfig(100_000, WS_CONFIG) });
  const base = url.replace(/^http:\/\//, "");
  const pub = await connect({ servers: server.url });
  const rows: string[] = [];
  const ratios: number[] = [];
  try {
    for (const n of SIZES) {
      const messages = Math.max(1, Math.floor(DELIVERIES / n));
      const g = await gatewayRun(`ws://${base}/v1/ws`, pub, n, messages);
      const b = await natsWsRun(server.wsPort, pub, n, messages);
      ratios.push(g.rate / b.rate);
      rows.push(`| ${n} | ${messages} | gateway /v1/ws | ${g.delivered} | ${Math.round(g.rate)} | ${(g.rate / b.rate).toFixed(2)} |`);
      rows.push(`| ${n} | ${messages} | nats-server WebSocket + nats.js | ${b.delivered} | ${Math.round(b.rate)} | 1.00 |`);
    }
  } finally {
    await pub.close();
    gw.kill("SIGTERM");
    await server.cleanup();
  }
  process.stdout.write(
    [
      `# WebSocket fan-out benchmark ${new Date().toISOString()}`,
      `machine: ${cpus().length}x ${cpus()[0]?.model}, node ${process.version}; ${PAYLOAD.length}-byte JSON payloads published on core NATS`,
      "",
      "| clients | messages | path | delivered | deliveries/s | ratio |",
      "|---:|---:|---|---:|---:|---:|",
      ...rows,
    ].join("\n") + "\n",
  );
  // The suite's targets: the ratio for one client and for the largest size.
  reportMetrics({ oneClientRatio: ratios[0]!, manyClientsRatio: ratios.at(-1)!, manyClients: SIZES.at(-1)! });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
