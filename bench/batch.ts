/**
 * NDJSON batch ingest, side by side in one run:
 *   raw      a nats.js publish loop of the same events (pre-encoded), one flush per batch:
 *            the ceiling for getting these events into NATS from Node
 *   core     the gateway: POST /v1/publish with an NDJSON body of `--batch` validated
 *            deployment.status events, core NATS (every item 202, confirmed by the server)
 *   js       the same batch on transfer.completed, stored by a file stream (every item 201)
 * Rows alternate (`--rounds`), each `--duration` seconds with `--concurrency` batches in flight.
 * The gateway is the built output, as `npm start` runs it (`npm run build` first; `--script src/server.ts` for tsx).
 * Usage: npx tsx bench/batch.ts [--batch 1000 --concurrency 4 --duration 5 --rounds 2 --rows raw,core,js]
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../test/support/nats-server.js";
import { benchArgs, startProcess, reportMetrics } from "./support.js";

const args = benchArgs();
const BATCH = Number(args.get("batch") ?? 1000);
const CONCURRENCY = Number(args.get("concurrency") ?? 4);
const DURATION_S = Number(args.get("duration") ?? 5);
const ROUNDS = Number(args.get("rounds") ?? 2);
const ROWS = new Set((args.get("rows") ?? "raw,core,js").split(","));

const now = new Date().toISOString();
const data = {
  core: (i: number) => ({ deploymentId: `dep-${i}`, cluster: "prod-eu", status: "succeeded", updatedAt: now }),
  js: (i: number) => ({ transferId: `tr-${i}`, imageId: "img-1", source: "s3://a/b", destination: "registry/x", sizeBytes: 1024, durationMs: 10, completedAt: now }),
};
const subjects = { core: "deployment.status", js: "transfer.completed" };
type Kind = keyof typeof subjects;

function ndjson(kind: Kind): string {
  return Array.from({ length: BATCH }, (_, i) => JSON.stringify({ subject: subjects[kind], data: data[kind](i) })).join("\n") + "\n";
}

/** CPU time (user + system) a process has used, in µs; 10 ms resolution (clock ticks). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** Runs `one` with CONCURRENCY in flight for DURATION_S; events per second and the events sent. */
async function drive(one: () => Promise<number>): Promise<{ rate: number; events: number }> {
  const end = performance.now() + DURATION_S * 1000;
  let events = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        // Not `events += await one()`: that reads `events` before the await and loses the other loops' counts.
        const n = await one();
        events += n;
      }
    }),
  );
  return { rate: events / ((performance.now() - start) / 1000), events };
}

async function main() {
  const nats = await NatsServer.start();
  const dir = mkdtempSync(join(tmpdir(), "natsgate-bench-"));
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({ jetstream: { streams: [{ name: "EVENTS", subjects: ["transfer.>"], storage: "file" }] } }));
  const gw = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config }, args.get("script") ?? "dist/src/server.js");
  const nc = await connect({ servers: nats.url });
  const bodies = { core: ndjson("core"), js: ndjson("js") };
  const encoder = new TextEncoder();
  const rawPayloads = Array.from({ length: BATCH }, (_, i) => encoder.encode(JSON.stringify(data.core(i))));

  const raw = () => {
    for (const p of rawPayloads) nc.publish(subjects.core, p);
    return nc.flush().then(() => BATCH);
  };
  const gateway = (kind: Kind) => async () => {
    const res = await fetch(`${gw.url}/v1/publish`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: bodies[kind] });
    const body = (await res.json()) as { results: { status: number }[] };
    const want = kind === "core" ? 202 : 201;
    const ok = body.results.filter((r) => r.status === want).length;
    if (res.status !== 200 || ok !== BATCH) throw new Error(`${kind}: ${res.status}, ${ok}/${BATCH} items ${want}: ${JSON.stringify(body).slice(0, 300)}`);
    return ok;
  };

  try {
    // Warm up JIT and connections.
    // Events/s moves with whatever else the host runs; the gateway's CPU per event does not.
    const cpu: Record<string, number[]> = { core: [], js: [] };
    const row = async (name: string, one: () => Promise<number>) => {
      if (!ROWS.has(name)) return Number.NaN;
      const before = name === "raw" ? 0 : cpuMicros(gw.child.pid!);
      const { rate, events } = await drive(one);
      if (name !== "raw") cpu[name]!.push((cpuMicros(gw.child.pid!) - before) / events);
      return rate;
    };
    await row("raw", raw);
    await row("core", gateway("core"));
    await row("js", gateway("js"));
    cpu.core!.length = cpu.js!.length = 0; // the warm-up rows do not count
    const rows: { round: number; raw: number; core: number; js: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      rows.push({ round, raw: await row("raw", raw), core: await row("core", gateway("core")), js: await row("js", gateway("js")) });
    }
    const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${gw.child.pid}/status`, "utf8"))![1]) / 1024;
    const machine = `${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, nats-server ${nc.info?.version}`;
    const k = (n: number) => `${Math.round(n).toLocaleString("en-US")}`;
    const us = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(1));
    process.stdout.write(
      [
        `# NDJSON batch ingest ${new Date().toISOString()}`,
        `machine: ${machine}; ${BATCH} events per batch, ${CONCURRENCY} batches in flight, ${DURATION_S} s per row; gateway peak RSS ${peakRss.toFixed(0)} MB`,
        "",
        "| round | raw nats.js loop events/s | gateway core events/s | ratio | gateway CPU µs/event, core | gateway JetStream events/s | ratio | gateway CPU µs/event, JetStream |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map((r, i) => `| ${r.round} | ${k(r.raw)} | ${k(r.core)} | ${(r.core / r.raw).toFixed(2)} | ${us(cpu.core![i])} | ${k(r.js)} | ${(r.js / r.raw).toFixed(2)} | ${us(cpu.js![i])} |`),
      ].join("\n") + "\n",
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    reportMetrics({
      coreEventsPerS: median(rows.map((r) => r.core)),
      coreRatio: median(rows.map((r) => r.core / r.raw)),
      jsEventsPerS: median(rows.map((r) => r.js)),
      rawEventsPerS: median(rows.map((r) => r.raw)),
    });
  } finally {
    await nc.close();
    gw.child.kill("SIGTERM");
    await nats.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
