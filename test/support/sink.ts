/**
 * A real HTTP webhook receiver on a free loopback port: records every request
 * (headers, raw body, arrival time) and answers with what the test scripts —
 * a status sequence, a delay, headers — so retries, timeouts and refusals are
 * exercised over real sockets.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";

/** One received request. */
export interface SinkRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The client's port: which connection (and so which process) sent it. */
  remotePort: number;
}

/** What to answer to a request. */
export interface SinkReply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering, in ms. */
  delayMs?: number;
}

/** Decides the reply to the `n`-th request (0-based) on a path. */
export type SinkScript = (req: SinkRequest, n: number) => SinkReply | Promise<SinkReply>;

/** A running sink. */
export interface Sink {
  url: string;
  requests: SinkRequest[];
  /** Sets the reply script for one path (default: 200 "ok"). */
  script(path: string, script: SinkScript): void;
  /** Resolves once `count` requests reached `path`. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<SinkRequest[]>;
  /** Requests to `path` so far. */
  on(path: string): SinkRequest[];
  /** Requests to `path` in flight right now, and the most there ever were at once. */
  concurrency(path: string): { now: number; max: number };
  close(): Promise<void>;
}

/** Starts a sink on 127.0.0.1. */
export async function startSink(): Promise<Sink> {
  const requests: SinkRequest[] = [];
  const scripts = new Map<string, SinkScript>();
  const waiters = new Set<() => void>();
  const load = new Map<string, { now: number; max: number }>();
  const loadOf = (path: string) => load.get(path) ?? load.set(path, { now: 0, max: 0 }).get(path)!;
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const path = req.url ?? "/";
      const entry: SinkRequest = { path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now(), remotePort: req.socket.remotePort ?? 0 };
      const n = requests.filter((r) => r.path === path).length;
      requests.push(entry);
      const l = loadOf(path);
      l.now++;
      l.max = Math.max(l.max, l.now);
      for (const w of [...waiters]) w();
      const reply: SinkReply = await (scripts.get(path) ?? (() => ({})))(entry, n);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      l.now--;
      if (res.destroyed) return;
      res.writeHead(reply.status ?? 200, { "content-type": "text/plain", ...reply.headers });
      res.end(reply.body ?? "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const on = (path: string) => requests.filter((r) => r.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (path, script) => void scripts.set(path, script),
    on,
    concurrency: (path) => ({ ...loadOf(path) }),
    waitFor(path, count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (on(path).length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(on(path));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`sink: ${on(path).length} of ${count} requests on ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A sink started in `beforeAll` and closed in `afterAll`; its fields are usable from the first test on. */
export function useSink(): Sink {
  const sink = {} as Sink;
  beforeAll(async () => {
    Object.assign(sink, await startSink());
  });
  afterAll(() => sink.close?.());
  return sink;
}
