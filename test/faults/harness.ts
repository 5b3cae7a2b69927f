/**
 * Shared pieces of the fault suite: the gateway as a real child process (config
 * file, free port, readiness), its RSS, reading a stream back, a webhook sink that
 * can go down and come back on the same port, a resuming SSE client, and one JSON
 * line of measurements per test.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGateway, type GatewayProcess } from "../support/process.js";
import { sseClient, type SseClient } from "../support/sse.js";

export const PATH_WITH_NATS = [process.env.PATH, "/usr/sbin", "/usr/local/sbin"].join(":");

/** Prints one JSON line of a test's measurements (collected for the closing note). */
export function report(test: string, numbers: Record<string, unknown>): void {
  console.log(JSON.stringify({ fault: test, ...numbers }));
}

/** Resolves after `ms` (only for pacing load generators and client backoff, never to wait for an event). */
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every `intervalMs` until it returns a value that is not undefined; rejects after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(intervalMs);
  }
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Resident set size of a process, in KiB (Linux /proc). */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** A gateway child process (`src/server.ts`, as `npm start` runs it). */
export interface GatewayChild {
  proc: GatewayProcess;
  url: string;
  pid: number;
  alive(): boolean;
  rssKb(): number;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), and wait for the exit; removes the config folder. */
  stop(): Promise<void>;
}

/** Options for `startGatewayProcess`. */
export interface GatewayChildOptions {
  logLevel?: string;
  /** Wait for this log line after listening (e.g. "webhooks ready"). */
  waitForLog?: string;
  /** Wait until /readyz answers 200 (default true). */
  ready?: boolean;
  /** Extra environment (e.g. NODE_OPTIONS for a diagnosis). */
  env?: Record<string, string>;
}

/** Writes `config` to a temporary JSON file and starts the gateway on a free port against `natsUrl`. */
export async function startGatewayProcess(config: Record<string, unknown>, natsUrl: string, opts: GatewayChildOptions = {}): Promise<GatewayChild> {
  const dir = mkdtempSync(join(tmpdir(), "natsgate-fault-"));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  const proc = runGateway(["--config", file], { LOG_LEVEL: opts.logLevel ?? "warn", PORT: "0", HOST: "127.0.0.1", PATH: PATH_WITH_NATS, NATS_URL: natsUrl, ...opts.env });
  const alive = () => proc.child.exitCode === null && proc.child.signalCode === null;
  const kill = async () => {
    if (alive()) proc.child.kill("SIGKILL");
    await proc.exited;
  };
  try {
    // LOG_LEVEL=warn would hide the info line with the URL: read the port from /proc instead.
    const url = await listeningUrl(proc);
    if (opts.waitForLog) await proc.waitForLog(opts.waitForLog, 30_000);
    if (opts.ready !== false) await until("gateway /readyz 200", async () => ((await fetch(`${url}/readyz`).catch(() => null))?.status === 200 ? true : undefined), 30_000);
    return {
      proc,
      url,
      pid: proc.child.pid!,
      alive,
      rssKb: () => rssKb(proc.child.pid!),
      kill: async () => {
        await kill();
        rmSync(dir, { recursive: true, force: true });
      },
      stop: async () => {
        if (alive()) {
          proc.child.kill("SIGTERM");
          const timer = setTimeout(() => proc.child.kill("SIGKILL"), 5_000);
          await proc.exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\ngateway output:\n${proc.output().slice(-4000)}`, { cause: err });
  }
}

/** The URL the child listens on: the "natsgate listening" line when logged, else its listening socket from /proc. */
async function listeningUrl(proc: GatewayProcess): Promise<string> {
  const pid = proc.child.pid!;
  return until(
    "gateway listening",
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`gateway exited (${proc.child.exitCode})`);
      const m = /"msg":"natsgate listening"[^\n]*"url":"([^"]+)"/.exec(proc.output());
      if (m) return m[1];
      // (An inspector, when NODE_OPTIONS asks for one, listens too: not that one.)
      const inspector = /Debugger listening on ws:\/\/[^:]+:(\d+)/.exec(proc.output())?.[1];
      const port = await listeningPort(pid, inspector === undefined ? undefined : Number(inspector));
      return port === undefined ? undefined : `http://127.0.0.1:${port}`;
    },
    30_000,
  );
}

/** A TCP port `pid` listens on (state 0A in /proc/net/tcp), if any. */
async function listeningPort(pid: number, except?: number): Promise<number | undefined> {
  const { readdir, readlink, readFile } = await import("node:fs/promises");
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ""));
    if (m) inodes.add(m[1]!);
  }
  for (const line of (await readFile("/proc/net/tcp", "utf8")).split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const port = parseInt(cols[1]?.split(":")[1] ?? "", 16);
    if (cols[3] === "0A" && inodes.has(cols[9]!) && port !== except) return port;
  }
  return undefined;
}

/** One message of a stream: its sequence and Nats-Msg-Id. */
export interface StoredMsg {
  seq: number;
  id: string | undefined;
  subject: string;
  data: string;
}

/** How long reading a stream back waits for JetStream to answer, in ms. */
const READ_BACK_TIMEOUT_MS = 20_000;

/** Reads a whole stream back, in order, with an ordered consumer. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMsg[]> {
  // Right after a broker restart the connection may still be reconnecting, and JetStream
  // recovering its store: flush waits for the one, a longer timeout for the other.
  await nc.flush();
  const jsm = await jetstreamManager(nc, { timeout: READ_BACK_TIMEOUT_MS });
  const info = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  const dec = new TextDecoder();
  for await (const m of messages) {
    out.push({ seq: m.seq, id: m.headers?.get("Nats-Msg-Id") || undefined, subject: m.subject, data: dec.decode(m.data) });
    if (m.seq >= info.state.last_seq || m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/**
 * A webhook receiver on a fixed loopback port that can go down (its listener
 * closed: connection refused) and come back on the same port. Answers 200 and
 * records every request's webhook-id and time.
 */
export interface FlakySink {
  url: string;
  port: number;
  /** Every request, with the status it was answered. */
  received: { id: string; at: number; body: string; status: number }[];
  /** Answer this status instead of 200 (while up). */
  status: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFlakySink(): Promise<FlakySink> {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const sink: FlakySink = {
    url: "",
    port: 0,
    received: [],
    status: 200,
    async up() {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          sink.received.push({ id: String(req.headers["webhook-id"]), at: Date.now(), body: Buffer.concat(chunks).toString(), status: sink.status });
          res.writeHead(sink.status, { "content-type": "text/plain" });
          res.end("ok");
        });
      });
      s.on("connection", (sock: Socket) => {
        sockets.add(sock);
        sock.once("close", () => sockets.delete(sock));
      });
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(sink.port, "127.0.0.1", () => resolve());
      });
      server = s;
      sink.port = (s.address() as AddressInfo).port;
      sink.url = `http://127.0.0.1:${sink.port}`;
    },
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    close: () => sink.down(),
  };
  await sink.up();
  return sink;
}

/**
 * An SSE client that keeps a subscription going as a service would: the
 * `eventsource` package reconnects by itself with Last-Event-ID; when it gives up
 * (a non-200 answer, e.g. 503 while NATS is down), it is opened again with the last
 * id received.
 */
export interface ResumingSse {
  /** `message` events across every connection, in arrival order. */
  events: { id: string; data: string }[];
  /** Connections opened after the first. */
  reopens: number;
  opened: Promise<void>;
  close(): void;
}

export function resumingSse(url: string, headers: Record<string, string> = {}, retryMs = 250): ResumingSse {
  let current: SseClient | undefined;
  let closed = false;
  let seen = 0;
  let timer: NodeJS.Timeout | undefined;
  const state: ResumingSse = {
    events: [],
    reopens: 0,
    opened: Promise.resolve(),
    close() {
      closed = true;
      clearTimeout(timer);
      current?.close();
    },
  };
  const open = (lastId: string | undefined) => {
    const client = sseClient(url, lastId ? { ...headers, "last-event-id": lastId } : headers, []);
    current = client;
    seen = 0;
    client.opened.catch(() => {});
    client.es.addEventListener("message", () => {
      for (const e of client.events.slice(seen)) if (e.type === "message") state.events.push({ id: e.id, data: e.data });
      seen = client.events.length;
    });
    client.es.addEventListener("error", () => {
      // CLOSED (2): the package gave up; CONNECTING (0): it retries by itself.
      if (client.es.readyState !== 2 || closed || current !== client) return;
      timer = setTimeout(() => {
        if (closed) return;
        state.reopens++;
        open(state.events.at(-1)?.id);
      }, retryMs);
    });
    return client.opened;
  };
  state.opened = open(undefined);
  return state;
}

/** Runs `n` workers until each returns. */
export async function workers(n: number, work: (worker: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => work(i)));
}
