/**
 * Every benchmark with a target (issue 15), one after another, each in its own
 * process with its baselines in the same run; one Markdown report per run in
 * bench/results/. With --check it exits 1 when a target is missed, so a
 * regression is one command away.
 *
 *   npm run bench                       quick mode (about 3 minutes)
 *   npm run bench -- --full             the benchmarks' own durations
 *   npm run bench -- --check            exit 1 when a target is missed
 *   npm run bench -- --only publish,batch
 *
 * Load comes from wrk where it runs (publish; `bench/wrk.ts` fetches Debian's),
 * else autocannon, and from Node clients in the benchmark process (batch,
 * webhooks). SSE and WebSocket fan-out (bench/sse.ts,
 * bench/ws.ts) need tens of thousands of sockets and minutes per row: they are
 * run by hand, not here.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { natsServerBinary } from "../test/support/nats-server.js";
import { benchArgs } from "./support.js";
import { findWrk } from "./wrk.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Scenario {
  name: string;
  script: string;
  quick: string[];
  full: string[];
}

/** A target on one of a scenario's reported numbers. */
interface Target {
  scenario: string;
  metric: string;
  label: string;
  at: "least" | "most";
  goal: number;
  format: (n: number) => string;
}

const SCENARIOS: Scenario[] = [
  { name: "publish", script: "bench/publish.ts", quick: ["--duration", "2"], full: ["--duration", "10"] },
  { name: "batch", script: "bench/batch.ts", quick: ["--duration", "3", "--rounds", "1"], full: [] },
  { name: "webhooks", script: "bench/webhooks.ts", quick: ["--events", "5000", "--seconds", "2"], full: [] },
  { name: "startup", script: "bench/startup.ts", quick: ["--rounds", "1"], full: ["--rounds", "5"] },
  // Fan-out: quick mode with fewer sockets (a regression guard); --full at the targets' sizes.
  { name: "sse", script: "bench/sse.ts", quick: ["--clients", "2000", "--messages", "10"], full: ["--clients", "10000", "--messages", "20"] },
  { name: "ws", script: "bench/ws.ts", quick: ["--clients", "1,200", "--deliveries", "200000"], full: ["--clients", "1,1000", "--deliveries", "1000000"] },
];

const ratio = (n: number) => `${n.toFixed(2)}×`;
const perS = (n: number) => `${Math.round(n).toLocaleString("en-US")}/s`;

const TARGETS: Target[] = [
  { scenario: "publish", metric: "coreRatio", label: "validated core publish, ratio to bare Hono", at: "least", goal: 0.85, format: ratio },
  { scenario: "publish", metric: "coreP99Ratio", label: "validated core publish p99, ratio to bare Hono's", at: "most", goal: 1.5, format: ratio },
  { scenario: "publish", metric: "jsRatio", label: "JetStream publish, ratio to bare Hono", at: "least", goal: 0.6, format: ratio },
  { scenario: "publish", metric: "failed", label: "publish requests answered non-2xx or failed", at: "most", goal: 0, format: String },
  { scenario: "batch", metric: "coreEventsPerS", label: "NDJSON batch ingest, core", at: "least", goal: 150_000, format: perS },
  { scenario: "batch", metric: "coreRatio", label: "NDJSON batch ingest, ratio to a raw nats.js loop", at: "least", goal: 0.6, format: ratio },
  { scenario: "webhooks", metric: "deliveriesPerS", label: "signed webhook deliveries, one webhook", at: "least", goal: 2_000, format: perS },
  { scenario: "startup", metric: "readyMs", label: "start to /readyz (built output)", at: "most", goal: 1_000, format: (n) => `${Math.round(n)} ms` },
  { scenario: "startup", metric: "idleRssMb", label: "idle RSS (built output, 30 s after ready)", at: "most", goal: 80, format: (n) => `${n.toFixed(1)} MB` },
  { scenario: "sse", metric: "p99Ms", label: "SSE broadcast publish-to-delivery p99 (10,000 subscribers with --full)", at: "most", goal: 200, format: (n) => `${n.toFixed(0)} ms` },
  { scenario: "sse", metric: "p99RatioToNatsWs", label: "SSE broadcast p99, ratio to nats-server's own WebSocket", at: "most", goal: 1, format: ratio },
  { scenario: "sse", metric: "rssMb", label: "gateway RSS with the SSE subscribers connected", at: "most", goal: 1024, format: (n) => `${n.toFixed(0)} MB` },
  { scenario: "ws", metric: "oneClientRatio", label: "WebSocket fan-out, 1 client, ratio to nats-server's WebSocket", at: "least", goal: 0.5, format: ratio },
  { scenario: "ws", metric: "manyClientsRatio", label: "WebSocket fan-out, many clients (1,000 with --full), ratio to nats-server's WebSocket", at: "least", goal: 0.5, format: ratio },
];

/** Runs one benchmark; resolves with its printed table and its reported numbers. */
function runScenario(s: Scenario, full: boolean): Promise<{ table: string; metrics: Record<string, number> }> {
  const json = join(mkdtempSync(join(tmpdir(), "natsgate-suite-")), `${s.name}.json`);
  const child = spawn(process.execPath, ["--import", "tsx", s.script, ...(full ? s.full : s.quick)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_JSON: json },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let table = "";
  child.stdout!.on("data", (c: Buffer) => (table += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`${s.script} exited ${code}`));
      try {
        resolve({ table, metrics: JSON.parse(readFileSync(json, "utf8")) as Record<string, number> });
      } catch (err) {
        reject(new Error(`${s.script} reported no numbers`, { cause: err }));
      }
    });
  });
}

function machine(): string {
  const nats = spawnSync(natsServerBinary(), ["--version"], { encoding: "utf8" }).stdout.trim();
  const tool = findWrk() ? "wrk, 1 thread (fixed-rate rows: autocannon)" : "autocannon (no wrk)";
  return `${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${nats || "nats-server ?"}; publish load: ${tool}`;
}

async function main(): Promise<void> {
  const args = benchArgs(["check", "full"]);
  const full = args.has("full");
  const only = args.get("only")?.split(",");
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("npm run build failed");
  const results = new Map<string, { table: string; metrics: Record<string, number> }>();
  for (const s of SCENARIOS) {
    if (only && !only.includes(s.name)) continue;
    process.stderr.write(`bench suite: ${s.name}\n`);
    results.set(s.name, await runScenario(s, full));
  }
  const rows = TARGETS.filter((t) => results.has(t.scenario)).map((t) => {
    const value = results.get(t.scenario)!.metrics[t.metric]!;
    const met = t.at === "least" ? value >= t.goal : value <= t.goal;
    return { t, value, met };
  });
  const when = new Date().toISOString();
  const report = [
    `# bench suite ${when} (${full ? "full" : "quick"})`,
    `machine: ${machine()}`,
    "",
    "| target | measured | goal | met |",
    "|---|---:|---:|:---:|",
    ...rows.map(({ t, value, met }) => `| ${t.label} | ${t.format(value)} | ${t.at === "least" ? "≥" : "≤"} ${t.format(t.goal)} | ${met ? "yes" : "**no**"} |`),
    "",
    ...[...results.values()].map((r) => r.table.replace(/^# /, "## ")),
  ].join("\n");
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `suite-${when.slice(0, 19).replace(/:/g, "")}.md`);
  writeFileSync(file, report + "\n");
  process.stdout.write(report + `\nwritten to ${file}\n`);
  const missed = rows.filter((r) => !r.met);
  if (args.has("check") && missed.length > 0) {
    process.stderr.write(`bench suite: ${missed.length} target(s) missed: ${missed.map((r) => r.t.metric).join(", ")}\n`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
