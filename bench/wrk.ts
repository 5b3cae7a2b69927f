/**
 * wrk, the load generator issue 15 asks for where it exists: a C program, so
 * its own CPU per request is a fraction of autocannon's and leaves more of the
 * two cores to the server measured. Taken from PATH, else fetched from Debian
 * bookworm with its LuaJIT into node_modules/.cache (nothing is installed);
 * when neither works the benchmarks fall back to autocannon and say so.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchDebianPackages } from "../test/support/debian-packages.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIR = join(ROOT, "node_modules/.cache/natsgate/wrk");

/** A runnable wrk: its path and the environment it needs (the unpacked LuaJIT). */
export interface Wrk {
  bin: string;
  env: NodeJS.ProcessEnv;
}

/** wrk from PATH or the cache, fetching it once; undefined (with the reason on stderr) when there is none. */
export function findWrk(): Wrk | undefined {
  const onPath = (process.env.PATH ?? "").split(":").find((d) => d && existsSync(join(d, "wrk")));
  if (onPath) return { bin: join(onPath, "wrk"), env: process.env };
  const bin = join(DIR, "root/usr/bin/wrk");
  const env = { ...process.env, LD_LIBRARY_PATH: [join(DIR, "root/usr/lib/x86_64-linux-gnu"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") };
  try {
    if (!existsSync(bin)) fetchDebianPackages(DIR, "bookworm", ["wrk", "libluajit2-5.1-2"]);
    execFileSync(bin, ["--version"], { env, stdio: "pipe" });
    return { bin, env };
  } catch (err) {
    // wrk --version exits 1 after printing its version; anything else means it cannot run.
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? "";
    if (out.startsWith("wrk ")) return { bin, env };
    process.stderr.write(`wrk unavailable, using autocannon: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** One wrk run's numbers, in the shape the benchmarks' rows take. */
export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Runs wrk against `url` with one request shape; latencies in ms. */
export function runWrk(wrk: Wrk, url: string, opts: { method: string; body: string; headers: Record<string, string>; connections: number; durationS: number }): Promise<WrkResult> {
  const script = join(mkdtempSync(join(tmpdir(), "natsgate-wrk-")), "request.lua");
  const lua = [`wrk.method = ${JSON.stringify(opts.method)}`, `wrk.body = ${JSON.stringify(opts.body)}`];
  for (const [name, value] of Object.entries(opts.headers)) lua.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  writeFileSync(script, lua.join("\n") + "\n");
  const args = ["-t", "1", "-c", String(opts.connections), "-d", `${opts.durationS}s`, "--latency", "-s", script, url];
  return new Promise((resolve, reject) => {
    const child = spawn(wrk.bin, args, { env: wrk.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

/** Reads wrk's summary; exported for its unit test. */
export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`no Requests/sec in wrk output: ${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(rps[1]),
    p50: latencyMs(out, "50%"),
    p99: latencyMs(out, "99%"),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
  };
}

function latencyMs(out: string, percentile: string): number {
  const m = new RegExp(`^\\s*${percentile}\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
  if (!m) return NaN;
  const value = Number(m[1]);
  return m[2] === "us" ? value / 1000 : m[2] === "s" ? value * 1000 : value;
}
