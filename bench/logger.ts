/**
 * The gateway's logger against pino, side by side in one process: lines per second
 * for a typical "request failed" line (method, path, status, error, request and trace
 * ids), formatting only (a write that drops the line) and writing to /dev/null
 * (ours: one synchronous write per line, as process.stderr to a file; pino: its
 * sonic-boom destination, synchronous and asynchronous), and through the
 * default write the gateway runs with, process.stderr.write, beside pino on
 * fd 2. Alternating rounds; the best of each is reported. Point stderr at
 * /dev/null for the stderr rows to mean the same as the others:
 *
 *   npx tsx bench/logger.ts [--lines 200000] [--rounds 5] 2>/dev/null
 */
import { openSync, writeSync } from "node:fs";
import { cpus } from "node:os";
import pino from "pino";
import { createLogger } from "../src/logger.js";
import { benchArgs } from "./support.js";

const args = benchArgs();
const LINES = Number(args.get("lines") ?? 200_000);
const ROUNDS = Number(args.get("rounds") ?? 5);
const fields = () => ({
  method: "POST",
  path: "/v1/publish/transfer.completed",
  status: 503,
  err: "NatsUnavailableError: NATS is not connected",
  requestId: "6f1c2b9e-5a4d-4c1e-9f8a-2b7d3e4f5a6b",
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
});

type Log = (msg: string, f: Record<string, unknown>) => void;
const devNull = openSync("/dev/null", "w");

const rows: Record<string, () => Log> = {
  "natsgate, format only": () => {
    const l = createLogger("info", () => {});
    return (m, f) => l.error(m, f);
  },
  "pino, format only": () => {
    const l = pino({ base: undefined }, { write: () => {} } as never);
    return (m, f) => l.error(f, m);
  },
  // What process.stderr.write does when stderr is a file: a synchronous write per line.
  "natsgate → /dev/null": () => {
    const l = createLogger("info", (line) => writeSync(devNull, line + "\n"));
    return (m, f) => l.error(m, f);
  },
  "pino → /dev/null (sync)": () => {
    const l = pino({ base: undefined }, pino.destination({ fd: devNull, sync: true }));
    return (m, f) => l.error(f, m);
  },
  "pino → /dev/null (async)": () => {
    const l = pino({ base: undefined }, pino.destination({ fd: devNull, sync: false }));
    return (m, f) => l.error(f, m);
  },
  // The production path: createLogger's default write.
  "natsgate → process.stderr": () => {
    const l = createLogger("info");
    return (m, f) => l.error(m, f);
  },
  "pino → fd 2 (async)": () => {
    const l = pino({ base: undefined }, pino.destination({ fd: 2, sync: false }));
    return (m, f) => l.error(f, m);
  },
};

async function run(log: Log): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < LINES; i++) log("request failed", fields());
  // Let asynchronous destinations drain before the clock stops.
  await new Promise((r) => setImmediate(r));
  return LINES / ((performance.now() - started) / 1000);
}

const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, make] of Object.entries(rows)) best.set(name, Math.max(best.get(name) ?? 0, await run(make())));
}
console.log(`logger: ${LINES.toLocaleString("en-US")} lines, best of ${ROUNDS} alternating rounds; ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
const pinoFormat = best.get("pino, format only")!;
for (const [name, rate] of best) console.log(`${name.padEnd(30)} ${Math.round(rate).toLocaleString("en-US").padStart(11)} lines/s  ${(rate / pinoFormat).toFixed(2)}× pino format`);
