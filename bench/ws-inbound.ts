/**
 * WebSocket inbound flood: one client sends `--frames` pub frames (core NATS)
 * as fast as it can; the gateway's RSS is sampled every 20 ms until every ack
 * is back. Shows what a client that outruns NATS costs the gateway (issue 11:
 * 100k frames took RSS from 145 to 408 MB before ws.maxInflightFrames).
 * Usage: npx tsx bench/ws-inbound.ts [--frames 100000]
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import WebSocket from "ws";
import { NatsServer } from "../test/support/nats-server.js";
import { benchArgs, startProcess } from "./support.js";

const args = benchArgs();
const FRAMES = Number(args.get("frames") ?? 100_000);

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const server = await NatsServer.start();
// The default config file (auth none); bench.in is a core subject.
const { child, url } = await startProcess({ NATS_URL: server.url });
try {
  const ws = new WebSocket(`${url.replace("http", "ws")}/v1/ws`);
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  let acks = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  ws.on("message", () => ++acks === FRAMES && done());
  const before = rssMb(child.pid!);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 20);
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) ws.send(`{"op":"pub","id":${i},"subject":"bench.in","data":{"n":${i}}}`);
  const sentMs = performance.now() - t0;
  await all;
  const drainMs = performance.now() - t0;
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 1_000));
  console.log(`# ws inbound flood, ${new Date().toISOString()}, ${cpus().length}x ${cpus()[0]?.model}, node ${process.version}`);
  console.log(`| frames | queued by client in | all acked in | gateway RSS before | peak | 1 s after |`);
  console.log(`|---:|---:|---:|---:|---:|---:|`);
  console.log(`| ${FRAMES} | ${sentMs.toFixed(0)} ms | ${drainMs.toFixed(0)} ms | ${before.toFixed(0)} MB | ${peak.toFixed(0)} MB | ${rssMb(child.pid!).toFixed(0)} MB |`);
  ws.close();
} finally {
  child.kill("SIGKILL");
  await server.cleanup();
}
