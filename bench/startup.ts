/**
 * Start to /readyz and idle memory of the gateway process, side by side in one
 * run: through tsx (`node --import tsx src/server.ts`) and from the built output
 * (`node dist/src/server.js`, what `npm start` and the image run). Alternating
 * rounds against one nats-server; RSS read from /proc 2 s after ready (start-up's
 * garbage still held) and 30 s after (idle: V8's memory reducer has run, some 8-20 s in).
 *
 *   npm run build && npx tsx bench/startup.ts [--rounds 5]
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { NatsServer } from "../test/support/nats-server.js";
import { benchArgs, GATEWAY_NODE_FLAGS, reportMetrics } from "./support.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = benchArgs();
const ROUNDS = Number(args.get("rounds") ?? 5);
const VARIANTS = {
  "tsx src/server.ts": ["--import", "tsx", "src/server.ts"],
  "node dist/src/server.js": [...GATEWAY_NODE_FLAGS, "dist/src/server.js"],
} as const;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** When idle RSS is read, in ms after ready: V8 shrinks an idle heap some 8-20 s in. */
const SETTLED_MS = 30_000;

interface Result {
  readyMs: number;
  rss: number;
  idleRss: number;
}

async function once(args: readonly string[], natsUrl: string): Promise<Result> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NATS_URL: natsUrl, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info" }, stdio: ["ignore", "ignore", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  while ((await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200) await new Promise((r) => setTimeout(r, 5));
  const readyMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 2_000));
  const rss = rssMb(child.pid!);
  await new Promise((r) => setTimeout(r, SETTLED_MS - 2_000));
  const idleRss = rssMb(child.pid!);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return { readyMs, rss, idleRss };
}

async function main(): Promise<void> {
  if (!existsSync(`${ROOT}/dist/src/server.js`)) throw new Error("run npm run build first");
  const nats = await NatsServer.start();
  const results = new Map<string, Result[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(VARIANTS)) {
        const r = await once(args, nats.url);
        results.set(name, [...(results.get(name) ?? []), r]);
      }
    }
  } finally {
    await nats.cleanup();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const lines = [
    `# startup ${new Date().toISOString()}`,
    `machine: ${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}; ${ROUNDS} alternating rounds, NATS running`,
    "",
    `| process | start to /readyz, median (min-max) ms | RSS 2 s after ready, median (min-max) MB | idle RSS ${SETTLED_MS / 1000} s after ready, median (min-max) MB |`,
    "|---|---:|---:|---:|",
    ...[...results].map(([name, rs]) => {
      const cell = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
      return `| ${name} | ${cell(rs.map((r) => r.readyMs), 0)} | ${cell(rs.map((r) => r.rss), 1)} | ${cell(rs.map((r) => r.idleRss), 1)} |`;
    }),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  const built = results.get("node dist/src/server.js")!;
  reportMetrics({ readyMs: median(built.map((r) => r.readyMs)), rssMb: median(built.map((r) => r.rss)), idleRssMb: median(built.map((r) => r.idleRss)) });
}

await main();
