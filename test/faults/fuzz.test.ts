/**
 * Fault: 10,000 fuzzed requests over every endpoint (fast-check, fixed seed:
 * FUZZ_SEED overrides it, FUZZ_ONLY=<index> replays one request) against a gateway
 * process with auth required and two token clients (one admin, one stored as a
 * sha256 digest). Zero 5xx, the process never exits, /healthz answers 200 within
 * 1 s on a probe every 200 ms throughout, and RSS after the run settles within
 * 20 % of RSS after a warm-up phase.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import fc from "fast-check";
import { connect } from "node:net";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServer } from "../support/nats-server.js";
import { gatewaySubjects, natsConnect } from "../support/nats.js";
import { requestArb } from "./fuzz-requests.js";
import { FUZZ_CONFIG, RESPONDER_PATTERNS, type Spec } from "./fuzz-values.js";
import { describeSpec, materialize, wsFrames } from "./fuzz-wire.js";
import { pause, percentile, report, round, startGatewayProcess, until, type GatewayChild } from "./harness.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const ONLY = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const WARMUP_RUNS = 1_000;
const CONCURRENCY = 32;
const CLIENT_TIMEOUT_MS = 20_000;
const PROBE_EVERY_MS = 200;
const PROBE_LIMIT_MS = 1_000;
const RSS_TOLERANCE = 1.2;

interface Outcome {
  status: number;
  /** Problem type (5xx) or a note. */
  detail?: string;
  /** Statuses ≥ 500 inside a 200 answer (batch items, WebSocket err/ack frames). */
  inner5xx: number[];
  ms: number;
}

/** Sends raw bytes over a fresh connection; reads the status line and (unless streaming) the whole answer. */
function sendRaw(port: number, bytes: Buffer, stopAtHead: (status: number) => boolean): Promise<Outcome & { body: Buffer; head: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (note?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      let text = buf.toString("latin1");
      // Interim answers (100 Continue to Expect: 100-continue) precede the real one.
      let skipped = 0;
      while (/^HTTP\/1\.[01] 1(0[02-9]|[1-9]\d) /.test(text) && text.includes("\r\n\r\n")) {
        const end = text.indexOf("\r\n\r\n") + 4;
        text = text.slice(end);
        skipped += end;
      }
      buf = buf.subarray(skipped);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const headEnd = text.indexOf("\r\n\r\n");
      const head = headEnd === -1 ? text : text.slice(0, headEnd);
      let body: Buffer = headEnd === -1 ? Buffer.alloc(0) : buf.subarray(headEnd + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) body = dechunk(body);
      resolve({ status: m ? Number(m[1]) : note === "timeout" ? -1 : 0, head, body, detail: note, inner5xx: [], ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish("timeout"), CLIENT_TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const text = buf.subarray(0, Math.min(buf.length, 8_192)).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text.replace(/^(HTTP\/1\.[01] 1(0[02-9]|[1-9]\d) [^]*?\r\n\r\n)+/, ""));
      if (m && text.includes("\r\n\r\n") && stopAtHead(Number(m[1]))) finish();
    });
    socket.on("end", () => finish());
    socket.on("close", () => finish());
    socket.on("error", (err) => finish(`socket ${(err as NodeJS.ErrnoException).code}`));
    socket.write(bytes);
  });
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", i);
    if (eol === -1) break;
    const size = parseInt(body.subarray(i, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** A WebSocket session: upgrade, send the frames, a ping, and wait for the pong (or the close). */
function sendWs(base: string, spec: Spec): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const inner5xx: number[] = [];
    let status = 0;
    let detail: string | undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(base.replace("http", "ws") + spec.target, { headers: Object.fromEntries(spec.headers), maxPayload: 64 * 1024 * 1024 });
    } catch (err) {
      resolve({ status: 0, detail: `client refused: ${(err as Error).message}`, inner5xx, ms: 0 });
      return;
    }
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.terminate();
      resolve({ status, detail, inner5xx, ms: Date.now() - started });
    };
    const timer = setTimeout(() => ((detail = "timeout"), finish()), 5_000);
    ws.on("unexpected-response", (_req, res) => {
      status = res.statusCode ?? 0;
      res.resume();
      finish();
    });
    ws.on("open", () => {
      status = 101;
      for (const f of wsFrames(spec)) ws.send(f);
      ws.send('{"op":"ping"}');
    });
    ws.on("message", (data) => {
      let f: { op?: string; status?: number };
      try {
        f = JSON.parse(data.toString());
      } catch {
        return;
      }
      if ((f.op === "err" || f.op === "ack") && typeof f.status === "number" && f.status >= 500) inner5xx.push(f.status);
      if (f.op === "pong") finish();
    });
    ws.on("close", (code) => {
      detail = `close ${code}`;
      finish();
    });
    ws.on("error", (err) => {
      detail ??= `error ${err.message}`;
      finish();
    });
  });
}

describe("fault: 10,000 fuzzed requests over every endpoint", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let gw: GatewayChild;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
    // A responder wherever a client may send a request outside the streams, so /v1/request
    // never answers 503 "no responders" to a well-formed request.
    for (const pattern of RESPONDER_PATTERNS) {
      nc.subscribe(pattern, {
        callback: (_err, msg) => {
          if (msg.reply && !msg.subject.startsWith("fz.js.")) msg.respond(msg.data, { headers: msg.headers });
        },
      });
    }
    await nc.flush();
    // V8's young generation grows to 3 x 16 MiB under allocation churn and is not handed back
    // promptly, which moves RSS by ~40 MB with nothing retained; kept small, RSS tracks what
    // the gateway holds on to, which is what a leak check is about.
    gw = await startGatewayProcess(FUZZ_CONFIG, server.url, { logLevel: "warn", env: { NODE_OPTIONS: "--max-semi-space-size=2" } });
  });
  afterAll(async () => {
    await gw?.kill();
    await nc?.close();
    await server?.cleanup();
  });

  it("zero 5xx, no exit, /healthz within 1 s throughout, RSS back within 20 % of the warmed-up RSS", async () => {
    const port = Number(new URL(gw.url).port);
    const host = new URL(gw.url).host;
    const specs = fc.sample(requestArb, { seed: SEED, numRuns: RUNS });
    const warmup = fc.sample(requestArb, { seed: SEED + 1, numRuns: WARMUP_RUNS });
    console.log(JSON.stringify({ fault: "fuzz", seed: SEED, runs: RUNS, reproduce: `FUZZ_SEED=${SEED} FUZZ_ONLY=<index> npx vitest run --config vitest.faults.config.ts test/faults/fuzz.test.ts` }));

    const findings: string[] = [];
    const statuses = new Map<string, Map<number, number>>();
    let timeouts = 0;
    let noAnswer = 0;
    let documented502 = 0;

    const run = async (spec: Spec): Promise<Outcome> => {
      if (spec.mode === "ws") return sendWs(gw.url, spec);
      const stopAtHead = (status: number) => spec.mode === "sse" ? status === 200 : spec.route === "ws-upgrade" ? status === 101 : false;
      const out = await sendRaw(port, materialize(spec, host), stopAtHead);
      if (spec.route === "batch" && out.status === 200) {
        try {
          for (const r of JSON.parse(out.body.toString("utf8")).results as { status: number }[]) if (r.status >= 500) out.inner5xx.push(r.status);
        } catch {
          out.detail = "batch answer is not JSON";
        }
      }
      if (out.status >= 500) {
        try {
          out.detail = JSON.parse(out.body.toString("utf8")).type;
        } catch {
          out.detail = out.body.toString("utf8").slice(0, 200);
        }
      }
      return out;
    };
    const pool = async (list: Spec[], record: boolean) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = next++; i < list.length; i = next++) {
            if (ONLY !== undefined && record && i !== ONLY) continue;
            const spec = list[i]!;
            const out = await run(spec);
            if (!record) continue;
            if (ONLY !== undefined) console.log(JSON.stringify({ replay: describeSpec(spec, i, SEED), outcome: { ...out, body: (out as { body?: Buffer }).body?.toString("utf8").slice(0, 1_000) } }));
            const byRoute = statuses.get(spec.route) ?? statuses.set(spec.route, new Map()).get(spec.route)!;
            byRoute.set(out.status, (byRoute.get(out.status) ?? 0) + 1);
            if (out.status === -1 || out.detail === "timeout") timeouts++;
            if (out.status === 0) noAnswer++;
            // Documented: retrying a dead letter whose destination still fails answers 502 and keeps it.
            const documented = spec.route === "dead-letters-retry" && out.status === 502 && out.detail?.endsWith("/delivery-failed");
            if (documented) documented502++;
            if ((out.status >= 500 && !documented) || out.inner5xx.length > 0) {
              findings.push(`${out.status}${out.inner5xx.length ? ` (inner ${out.inner5xx.join(",")})` : ""} ${out.detail ?? ""}: ${describeSpec(spec, i, SEED)}`);
            }
          }
        }),
      );
    };

    // /healthz every 200 ms, from the warm-up to the end of the settle.
    const probes: { at: number; status: number; ms: number }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const at = Date.now();
        const status = (await fetch(`${gw.url}/healthz`, { signal: AbortSignal.timeout(PROBE_LIMIT_MS) }).catch(() => null))?.status ?? 0;
        probes.push({ at, status, ms: Date.now() - at });
        await pause(Math.max(0, PROBE_EVERY_MS - (Date.now() - at)));
      }
    })();

    const rssStart = gw.rssKb();
    const warmStarted = Date.now();
    await pool(warmup, false);
    // Let the warm-up's work finish (webhook attempts, closing streams) before the reference reading.
    await pause(3_000);
    const rssWarm = gw.rssKb();
    const started = Date.now();
    await pool(specs, true);
    const runMs = Date.now() - started;
    const rssAfterRun = gw.rssKb();
    // No GC can be forced in the child: poll until V8 has given memory back, or the deadline passes.
    const settleStarted = Date.now();
    const rssSettled = await until("RSS within 20 % of the warm-up", () => (gw.rssKb() <= rssWarm * RSS_TOLERANCE ? gw.rssKb() : undefined), 20_000, 500).catch(() => gw.rssKb());
    const settleMs = Date.now() - settleStarted;
    probing = false;
    await prober;

    // Every client is gone: no subscription or consumer of theirs may outlive them (DESIGN.md:
    // "Client disconnects release everything"). Webhooks' durable consumers stay, by design.
    const jsm = await jetstreamManager(nc);
    const leftovers = async () => {
      const subjects = await gatewaySubjects(server.monitorUrl);
      const consumers: string[] = [];
      for (const stream of ["FZ", "HOOKS"]) {
        for (const c of await jsm.consumers.list(stream).next()) if (!c.name.startsWith("natsgate_wh_")) consumers.push(`${stream}/${c.config.filter_subject ?? ""}`);
      }
      return { subjects: subjects.filter((x) => !x.startsWith("$JS.")), consumers };
    };
    const leaked = await until("client subscriptions released", async () => {
      const l = await leftovers();
      return l.subjects.length + l.consumers.length === 0 ? l : undefined;
    }, 5_000, 250).catch(() => leftovers());

    const badProbes = probes.filter((p) => p.status !== 200 || p.ms > PROBE_LIMIT_MS);
    // 5xx the gateway logged (including ones no client saw, e.g. for a request Node's parser then refused).
    const logged5xx = gw.proc
      .output()
      .split("\n")
      .filter((l) => /"msg":"request failed".*"status":5\d\d/.test(l) && !l.includes("DeliveryFailedError"));
    report("fuzz", {
      seed: SEED,
      requests: ONLY === undefined ? specs.length : 1,
      warmupRequests: warmup.length,
      concurrency: CONCURRENCY,
      warmupMs: started - warmStarted,
      runMs,
      findings5xx: findings.length,
      documented502DeadLetterRetry: documented502,
      clientTimeouts: timeouts,
      closedWithoutAnswer: noAnswer,
      statusesByRoute: Object.fromEntries([...statuses].map(([r, m]) => [r, Object.fromEntries([...m].sort((a, b) => a[0] - b[0]))])),
      healthz: { probes: probes.length, failed: badProbes.length, p99Ms: percentile(probes.map((p) => p.ms), 99), maxMs: Math.max(...probes.map((p) => p.ms)) },
      rssKb: { start: rssStart, afterWarmup: rssWarm, afterRun: rssAfterRun, settled: rssSettled, ratio: round(rssSettled / rssWarm, 3), settleMs },
      gatewayAlive: gw.alive(),
      leakedAfterClientsLeft: leaked,
      gatewayLogged5xx: logged5xx.length,
      gatewayLogged5xxSample: logged5xx.slice(0, 3),
    });

    expect(gw.alive(), `gateway exited: ${gw.proc.output().slice(-2_000)}`).toBe(true);
    expect(findings, `5xx answers (reproduce with FUZZ_SEED=${SEED} FUZZ_ONLY=<index>):\n${findings.slice(0, 10).join("\n")}`).toEqual([]);
    expect(leaked, "NATS subscriptions and consumers left after every client disconnected").toEqual({ subjects: [], consumers: [] });
    expect(badProbes, "/healthz probes that failed or took over 1 s").toEqual([]);
    expect(rssSettled, `RSS ${rssSettled} KiB vs ${rssWarm} KiB after the warm-up`).toBeLessThanOrEqual(rssWarm * RSS_TOLERANCE);
  }, 200_000);
});
