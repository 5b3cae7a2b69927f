/** Shared by the benchmarks: arguments, a gateway child process, and a nats-server with WebSocket. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { NatsServer } from "../test/support/nats-server.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// nats.js's wsconnect needs a global WebSocket; Node 20 has none.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/** `--name value` pairs from the command line; the names in `flags` stand alone (`--check`). */
export function benchArgs(flags: string[] = []): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i++) {
    const name = process.argv[i]!.replace(/^--/, "");
    args.set(name, flags.includes(name) ? "true" : process.argv[++i]!);
  }
  return args;
}

/**
 * Hands a benchmark's headline numbers to `bench/suite.ts`, which names a JSON
 * file in BENCH_JSON; run by hand, a benchmark prints its table only.
 */
export function reportMetrics(metrics: Record<string, number>): void {
  const file = process.env.BENCH_JSON;
  if (file) writeFileSync(file, JSON.stringify(metrics));
}

/** A nats-server with a WebSocket listener, for the WebSocket baselines. */
export function natsServerWithWebSocket(): Promise<NatsServer> {
  return NatsServer.start({ config: "websocket { port: -1, no_tls: true }\nmax_connections: 100000" });
}

/** The gateway as `npm start` runs it: built output (under tsx, source maps cost JetStream publishes ~40 % more CPU). */
export const GATEWAY_ENTRY = "dist/src/server.js";

/** The Node flags `npm start` gives the gateway (package.json's start script), so a benchmark runs what users run. */
export const GATEWAY_NODE_FLAGS: string[] = (() => {
  const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  return start.slice(1, start.indexOf(GATEWAY_ENTRY)).filter((a) => a.startsWith("--"));
})();

/**
 * Runs a script (default: the gateway's built entry) on a random port; resolves
 * once it logged its URL (and, for the gateway, its NATS connection). stdout
 * (the audit trail) is discarded, as a log shipper would.
 */
export function startProcess(env: Record<string, string>, script = GATEWAY_ENTRY, ready = /connected to NATS/): Promise<{ child: ChildProcess; url: string }> {
  if (script.startsWith("dist/") && !existsSync(join(ROOT, script))) {
    return Promise.reject(new Error(`${script} is missing: run \`npm run build\` first (npm run bench does)`));
  }
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // Built output runs as `npm start` runs it; TypeScript goes through tsx.
  const loader = /\.m?js$/.test(script) ? [] : ["--import", "tsx"];
  const flags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean) : GATEWAY_NODE_FLAGS;
  const child = spawn(process.execPath, [...flags, ...profile, ...loader, script], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m && ready.test(out)) {
        child.stderr!.off("data", onData);
        child.stderr!.resume();
        resolve({ child, url: m[1]! });
      }
    };
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${script} exited ${code}: ${out}`)));
  });
}

/**
 * A config file for a fan-out benchmark: every bench client is one anonymous client from
 * one address, so the per-client stream and subscription caps (there to stop one client
 * from taking a replica) are raised past the benchmark's client count.
 */
export function fanOutConfig(clients = 100_000, extra: Record<string, unknown> = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), "natsgate-bench-")), "config.json");
  writeFileSync(file, JSON.stringify({ limits: { maxStreamsPerClient: clients, maxSubscriptionsPerClient: clients }, ...extra }));
  return file;
}
