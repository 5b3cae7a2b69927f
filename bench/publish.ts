/**
 * Publish throughput and latency, side by side in one run:
 *   bare     a bare Hono handler that only answers 202 (the ceiling)
 *   core     the gateway: validated JSON (deployment.status) published on core NATS (202)
 *   hono     the core publish again with server.fastPublish: false (every request through Hono)
 *   js       the gateway: validated JSON (transfer.completed) stored by JetStream (201)
 *   auth     the core publish again on a gateway with auth.mode: required (bearer token),
 *            and with HTTP Basic (user and password; scrypt once, then the credential cache)
 *   otel     the core publish again with the OpenTelemetry SDK on, requests carrying a
 *            sampled traceparent: spans kept by an in-memory exporter (the gateway's own
 *            cost), and sent over OTLP/HTTP to a local collector that discards them
 * Each server runs in its own process. wrk drives them where it runs (`bench/wrk.ts`
 * fetches Debian's), one thread, so the load generator takes little of the two cores;
 * else autocannon, from this process. The fixed-rate rows are autocannon's (wrk has no
 * fixed rate). The table says which produced each row.
 * The targets' rows (core, JetStream) run --rounds times, each between two bare runs; their
 * ratio is the median.
 * Usage: npm run bench:publish [-- --duration 10 --connections 32 --rounds 3 --loader wrk|autocannon]
 */
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { NatsServer } from "../test/support/nats-server.js";
import { hashPassword } from "../src/security/passwords.js";
import { benchArgs, reportMetrics, startProcess } from "./support.js";
import { findWrk, runWrk } from "./wrk.js";

const args = benchArgs();
const DURATION_S = Number(args.get("duration") ?? 10);
const CONNECTIONS = Number(args.get("connections") ?? 32);
const FIXED_RATE = Number(args.get("rate") ?? 1000);
const ROUNDS = Number(args.get("rounds") ?? 3);
const wrk = args.get("loader") === "autocannon" ? undefined : findWrk();

const now = new Date().toISOString();
const deploymentStatus = JSON.stringify({ deploymentId: "dep-9", cluster: "prod-eu", status: "succeeded", updatedAt: now });
const transferCompleted = JSON.stringify({
  transferId: "tr-1",
  imageId: "img-1",
  source: "s3://a/b",
  destination: "registry/x",
  sizeBytes: 1024,
  durationMs: 10,
  completedAt: now,
});

/** Polls /readyz (a child process has no event to await); resolves with the NATS server version. */
async function waitReady(url: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return ((await res.json()) as { nats: { server: string } }).nats.server;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never became ready`);
}

interface Row {
  name: string;
  loader: "wrk" | "autocannon";
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function run(name: string, url: string, body: string, opts: { rate?: number; headers?: Record<string, string> } = {}): Promise<Row> {
  const headers = { "content-type": "application/json", ...opts.headers };
  if (wrk && !opts.rate) {
    const r = await runWrk(wrk, url, { method: "POST", headers, body, connections: CONNECTIONS, durationS: DURATION_S });
    return { name, loader: "wrk", ...r };
  }
  const result = await autocannon({
    url,
    method: "POST",
    headers,
    body,
    connections: opts.rate ? 8 : CONNECTIONS,
    duration: DURATION_S,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  return {
    name,
    loader: "autocannon",
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main() {
  const nats = await NatsServer.start();
  const dir = mkdtempSync(join(tmpdir(), "natsgate-bench-"));
  const config = join(dir, "config.json");
  const streams = { streams: [{ name: "EVENTS", subjects: ["transfer.>"], storage: "file" }] };
  writeFileSync(config, JSON.stringify({ jetstream: streams }));
  const honoConfig = join(dir, "hono.json");
  writeFileSync(honoConfig, JSON.stringify({ server: { fastPublish: false }, jetstream: streams }));
  const authConfig = join(dir, "auth.json");
  const token = "bench-token-0123456789abcdef";
  const digest = "sha256:" + createHash("sha256").update(token).digest("hex");
  const password = "bench-password-0123";
  const basic = `Basic ${Buffer.from(`bench-user:${password}`).toString("base64")}`;
  const clients = [
    { name: "bench", token: digest, publish: { allow: [">"] } },
    { name: "bench-user", user: "bench-user", password: await hashPassword(password), publish: { allow: [">"] } },
  ];
  writeFileSync(authConfig, JSON.stringify({ jetstream: streams, auth: { mode: "required", clients } }));
  const bare = await startProcess({}, "bench/bare-server.ts", /listening/);
  const gw = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config });
  const gwHono = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: honoConfig });
  const gwAuth = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: authConfig });
  // Accepts OTLP exports and discards them: the cost measured is the gateway's, not a collector's.
  const collector = createServer((req, res) => req.resume().on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}")));
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const gwOtel = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config, OTEL_EXPORTER_OTLP_ENDPOINT: otlp });
  const gwMemory = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config }, "bench/otel-memory-entry.mjs");
  const natsVersion = await waitReady(gw.url);
  await waitReady(gwMemory.url);
  await waitReady(gwAuth.url);
  await waitReady(gwHono.url);
  await waitReady(gwOtel.url);
  const traced = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
  try {
    // Warm up JIT and connections on each target before measuring.
    const warm: [string, string, Record<string, string>][] = [
      [`${bare.url}/v1/publish/deployment.status`, deploymentStatus, {}],
      [`${gw.url}/v1/publish/deployment.status`, deploymentStatus, {}],
      [`${gw.url}/v1/publish/transfer.completed`, transferCompleted, {}],
      [`${gwHono.url}/v1/publish/deployment.status`, deploymentStatus, {}],
      [`${gwAuth.url}/v1/publish/deployment.status`, deploymentStatus, { authorization: `Bearer ${token}` }],
      [`${gwAuth.url}/v1/publish/deployment.status`, deploymentStatus, { authorization: basic }],
      [`${gw.url}/v1/publish/deployment.status`, deploymentStatus, traced],
      [`${gwOtel.url}/v1/publish/deployment.status`, deploymentStatus, traced],
      [`${gwMemory.url}/v1/publish/deployment.status`, deploymentStatus, traced],
    ];
    for (const [u, b, h] of warm) {
      await autocannon({ url: u, method: "POST", headers: { "content-type": "application/json", ...h }, body: b, connections: CONNECTIONS, duration: 2 });
    }
    const url = (base: string, subject: string) => `${base}/v1/publish/${subject}`;
    const specs: [string, string, string, { headers?: Record<string, string> }?][] = [
      ["gateway core publish (validated)", url(gw.url, "deployment.status"), deploymentStatus],
      ["gateway core publish, fast path off (Hono)", url(gwHono.url, "deployment.status"), deploymentStatus],
      ["gateway JetStream publish (validated)", url(gw.url, "transfer.completed"), transferCompleted],
      ["gateway core publish, auth required (token)", url(gwAuth.url, "deployment.status"), deploymentStatus, { headers: { authorization: `Bearer ${token}` } }],
      // One scrypt, then the credential cache: what a busy Basic client costs against a token.
      ["gateway core publish, auth required (Basic user:password)", url(gwAuth.url, "deployment.status"), deploymentStatus, { headers: { authorization: basic } }],
      ["gateway core publish, traceparent, no SDK", url(gw.url, "deployment.status"), deploymentStatus, { headers: traced }],
      ["gateway core publish, traceparent, SDK on (in-memory exporter)", url(gwMemory.url, "deployment.status"), deploymentStatus, { headers: traced }],
      ["gateway core publish, traceparent, SDK on (OTLP)", url(gwOtel.url, "deployment.status"), deploymentStatus, { headers: traced }],
    ];
    // The bare handler runs between every two rows, and each row is compared with the mean
    // of the bare runs either side of it: on a shared host the ceiling drifts within minutes.
    const bareRow = () => run("bare Hono 202", url(bare.url, "deployment.status"), deploymentStatus);
    const bares: Row[] = [await bareRow()];
    const rows: (Row & { ratio: number; p99Ratio: number })[] = [];
    const measure = async ([name, target, body, opts]: (typeof specs)[number]) => {
      const r = await run(name, target, body, opts);
      const before = bares.at(-1)!;
      const after = await bareRow();
      bares.push(after);
      return { ...r, ratio: r.rps / ((before.rps + after.rps) / 2), p99Ratio: r.p99 / Math.max((before.p99 + after.p99) / 2, 1) };
    };
    for (const spec of specs) rows.push(await measure(spec));
    // The targets' rows again, ROUNDS times in all: their ratios are the medians (one row is at
    // the mercy of a noisy neighbour for its few seconds).
    const targets = [specs[0]!, specs[2]!];
    const repeats = new Map<string, number[]>(targets.map(([name]) => [name, [rows.find((r) => r.name === name)!.ratio]]));
    for (let round = 1; round < ROUNDS; round++) {
      for (const spec of targets) repeats.get(spec[0])!.push((await measure(spec)).ratio);
    }
    for (const r of rows) {
      const all = repeats.get(r.name);
      if (all) Object.assign(r, { ratio: [...all].sort((a, b) => a - b)[Math.floor(all.length / 2)]!, name: `${r.name} (ratio: median of ${all.map((x) => x.toFixed(2)).join(", ")})` });
    }
    const fixed = [
      await run(`bare Hono 202 @${FIXED_RATE}/s`, url(bare.url, "deployment.status"), deploymentStatus, { rate: FIXED_RATE }),
      await run(`gateway core publish @${FIXED_RATE}/s`, url(gw.url, "deployment.status"), deploymentStatus, { rate: FIXED_RATE }),
    ];

    const machine = `${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, nats-server ${natsVersion}`;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const cells = (r: Row) => `${r.loader} | ${Math.round(r.rps)}`;
    const lines = [
      `# publish benchmark ${new Date().toISOString()}`,
      `machine: ${machine}; ${CONNECTIONS} connections, ${DURATION_S} s per row`,
      "",
      "| target | load generator | req/s | ratio to bare | p50 ms | p99 ms | non-2xx | errors |",
      "|---|---|---:|---:|---:|---:|---:|---:|",
      `| bare Hono 202 (median of ${bares.length} runs, one between every two rows: ${bares.map((b) => Math.round(b.rps)).join(", ")}) | ${bares[0]!.loader} | ${Math.round(median(bares.map((b) => b.rps)))} | 1.00 | ${median(bares.map((b) => b.p50))} | ${median(bares.map((b) => b.p99))} | ${bares.reduce((n, b) => n + b.non2xx, 0)} | ${bares.reduce((n, b) => n + b.errors, 0)} |`,
      ...rows.map((r) => `| ${r.name} | ${cells(r)} | ${r.ratio.toFixed(2)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`),
      ...fixed.map((r) => `| ${r.name} | ${cells(r)} | - | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`),
      "",
      "Ratios: each row against the mean of the bare runs just before and after it.",
    ];
    process.stdout.write(lines.join("\n") + "\n");
    const row = (name: string) => rows.find((r) => r.name.startsWith(name))!;
    const core = row("gateway core publish (validated)");
    reportMetrics({
      coreRatio: core.ratio,
      coreP99Ratio: core.p99Ratio,
      coreRps: core.rps,
      bareRps: median(bares.map((b) => b.rps)),
      jsRatio: row("gateway JetStream publish (validated)").ratio,
      authRatio: row("gateway core publish, auth required (token)").ratio,
      basicRatio: row("gateway core publish, auth required (Basic user:password)").ratio,
      failed: [...bares, ...rows, ...fixed].reduce((n, r) => n + r.non2xx + r.errors, 0),
    });
  } finally {
    bare.child.kill("SIGTERM");
    gw.child.kill("SIGTERM");
    gwAuth.child.kill("SIGTERM");
    gwHono.child.kill("SIGTERM");
    gwOtel.child.kill("SIGTERM");
    gwMemory.child.kill("SIGTERM");
    collector.close();
    await nats.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
