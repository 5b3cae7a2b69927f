/**
 * Fault: a gateway holding 2,000 idle SSE connections and 500 slow-body clients
 * (request headers sent, then one body byte a second) still publishes with a p99
 * latency within 2× of its unloaded p99 (with a 5 ms floor under the unloaded p99,
 * so that sub-millisecond noise does not decide), for core and JetStream publishes.
 */
import { readFileSync } from "node:fs";
import { Agent, get, request, type ClientRequest, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServer } from "../support/nats-server.js";
import { percentile, report, round, startGatewayProcess, until, workers, type GatewayChild } from "./harness.js";

const SSE_CLIENTS = 2_000;
const SSE_SUBJECTS = 200;
const SLOW_CLIENTS = 500;
const SAMPLES = 500;
/** Publishes before the unloaded measurement (JIT, connection, stream lookups warm), and before the loaded one. */
const WARMUP = 1_000;
const REWARM = 100;
/** Unloaded p99s below this are treated as this, in ms. */
const FLOOR_MS = 5;

/** The soft limit on open files of this process (the gateway child inherits it). */
function openFileLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

describe("fault: 2,000 idle SSE connections and 500 slow-body clients", () => {
  let server: NatsServer;
  let gw: GatewayChild;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sse: { req: ClientRequest; res?: IncomingMessage; closed: boolean }[] = [];
  const slow: { socket: Socket; closed: boolean; answered: string }[] = [];
  let trickle: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGatewayProcess(
      { jetstream: { streams: [{ name: "IDLE", subjects: ["idle.js.>"] }] }, limits: { maxStreamsPerClient: 5_000, maxSubscriptionsPerClient: 5_000 } },
      server.url,
    );
  });
  afterAll(async () => {
    clearInterval(trickle);
    for (const s of slow) s.socket.destroy();
    for (const s of sse) s.req.destroy();
    agent.destroy();
    await gw?.kill();
    await server?.cleanup();
  });

  const target = () => new URL(gw.url);

  /** One publish over the keep-alive socket; resolves with its latency in ms. */
  const publishOnce = (subject: string, n: number) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ n });
      const started = process.hrtime.bigint();
      const req = request(
        { host: target().hostname, port: target().port, agent, method: "POST", path: `/v1/publish/${subject}`, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== 201 && res.statusCode !== 202) reject(new Error(`publish ${subject}: ${res.statusCode}`));
            else resolve(Number(process.hrtime.bigint() - started) / 1e6);
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  const measure = async (warmup: number) => {
    const out: Record<string, number[]> = { core: [], jetstream: [] };
    for (let i = 0; i < warmup; i++) {
      await publishOnce("idle.core", i);
      await publishOnce("idle.js.x", i);
    }
    for (let i = 0; i < SAMPLES; i++) {
      out.core!.push(await publishOnce("idle.core", i));
      out.jetstream!.push(await publishOnce("idle.js.x", i));
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { p50: round(percentile(v, 50)), p99: round(percentile(v, 99)), max: round(Math.max(...v)) }]));
  };

  it("publish p99 with 2,000 idle SSE streams and 500 slow bodies open stays within 2x of the unloaded p99", async () => {
    const fdLimit = openFileLimit();
    // Each side holds every connection; keep well inside the limit (ulimit -n).
    expect(fdLimit, `ulimit -n is ${fdLimit}; this test holds ${SSE_CLIENTS + SLOW_CLIENTS} sockets per process`).toBeGreaterThanOrEqual((SSE_CLIENTS + SLOW_CLIENTS) * 1.5);

    const rssBefore = gw.rssKb();
    const unloaded = await measure(WARMUP);
    const rssUnloaded = gw.rssKb();

    // 2,000 SSE streams over 200 subject sets, opened 100 at a time; each open once its first bytes arrived.
    let opened = 0;
    await workers(100, async (w) => {
      for (let i = w; i < SSE_CLIENTS; i += 100) {
        await new Promise<void>((resolve, reject) => {
          const entry: (typeof sse)[number] = { req: undefined as unknown as ClientRequest, closed: false };
          entry.req = get({ host: target().hostname, port: target().port, agent: false, path: `/v1/subscribe?subject=idle.sse.${i % SSE_SUBJECTS}` }, (res) => {
            entry.res = res;
            if (res.statusCode !== 200) return reject(new Error(`SSE ${i}: ${res.statusCode}`));
            res.once("data", () => {
              opened++;
              resolve();
            });
            res.on("close", () => (entry.closed = true));
          });
          entry.req.on("error", (err) => ((entry.closed = true), reject(err)));
          sse.push(entry);
        });
      }
    });
    const rssWithSse = gw.rssKb();

    // 500 slow-body clients: headers of a 100,000-byte POST, then one byte per second each.
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const socket = connect(Number(target().port), target().hostname);
      const entry = { socket, closed: false, answered: "" };
      socket.on("data", (d) => (entry.answered += d.toString()));
      socket.on("close", () => (entry.closed = true));
      socket.on("error", () => {});
      socket.write(`POST /v1/publish/idle.slow HTTP/1.1\r\nHost: ${target().host}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[`);
      slow.push(entry);
    }
    await until("slow-body sockets connected", () => (slow.every((s) => !s.socket.connecting) ? true : undefined), 10_000, 20);
    trickle = setInterval(() => {
      for (const s of slow) if (!s.closed) s.socket.write("1");
    }, 1_000);

    const loaded = await measure(REWARM);
    const rssLoaded = gw.rssKb();
    const sseClosed = sse.filter((s) => s.closed).length;
    const slowClosed = slow.filter((s) => s.closed || s.answered !== "").length;
    const bound = (p99: number) => 2 * Math.max(p99, FLOOR_MS);

    report("idle-load", {
      openFileLimit: fdLimit,
      sseOpen: opened - sseClosed,
      slowBodyOpen: SLOW_CLIENTS - slowClosed,
      unloadedMs: unloaded,
      loadedMs: loaded,
      boundMs: { core: bound(unloaded.core!.p99), jetstream: bound(unloaded.jetstream!.p99) },
      rssKb: { start: rssBefore, afterUnloaded: rssUnloaded, withSse: rssWithSse, loaded: rssLoaded },
    });

    expect(opened).toBe(SSE_CLIENTS);
    expect(sseClosed, "SSE streams closed during the measurement").toBe(0);
    expect(slowClosed, "slow-body clients answered or closed during the measurement").toBe(0);
    expect(loaded.core!.p99).toBeLessThanOrEqual(bound(unloaded.core!.p99));
    expect(loaded.jetstream!.p99).toBeLessThanOrEqual(bound(unloaded.jetstream!.p99));
    expect(gw.alive()).toBe(true);
  }, 120_000);
});
