/**
 * Publish throughput and latency, side by side in one run:
 *   bare     a bare Hono handler that only answers 202 (the ceiling)
 *   core     the gateway: validated JSON (deployment.status) published on core NATS (202)
 *   hono     the core publish again with server.fastPublish: false (every request through Hono)
 *   js       the gateway: validated JSON (transfer.completed) stored by JetStream (201)
 *   auth     the core publish again on a gateway with auth.mode: required (bearer token)
 *   otel     the core publish again with the OpenTelemetry SDK on, requests carrying a
 *            sampled traceparent: spans kept by an in-memory exporter (the gateway's own
 *            cost), and sent over OTLP/HTTP to a local collector that discards them
 * Each server runs in its own process; autocannon drives it from this one.
 * Usage: npm run bench [-- --duration 10 --connections 32]
 */
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { NatsServer } from "../test/support/nats-server.js";
import { benchArgs, reportMetrics, startProcess } from "./support.js";

const args = benchArgs();
const DURATION_S = Number(args.get("duration") ?? 10);
const CONNECTIONS = Number(args.get("connections") ?? 32);
const FIXED_RATE = Number(args.get("rate") ?? 1000);

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
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function run(name: string, url: string, body: string, opts: { rate?: number; headers?: Record<string, string> } = {}): Promise<Row> {
  const result = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json", ...opts.headers },
    body,
    connections: opts.rate ? 8 : CONNECTIONS,
    duration: DURATION_S,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  return {
    name,
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
  writeFileSync(authConfig, JSON.stringify({ jetstream: streams, auth: { mode: "required", clients: [{ name: "bench", token: digest, publish: { allow: [">"] } }] } }));
  const bare = await startProcess({}, "bench/bare-server.ts", /listening/);
  const gw = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config });
  const gwHono = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: honoConfig });
  const gwAuth = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: authConfig });
  // Accepts OTLP exports and discards them: the cost measured is the gateway's, not a collector's.
  const collector = createServer((req, res) => req.resume().on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}")));
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const gwOtel = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config, OTEL_EXPORTER_OTLP_ENDPOINT: otlp });
  const gwMemory = await startProcess({ NATS_URL: nats.url, NATSGATE_CONFIG: config }, "bench/otel-memory-entry.ts");
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
      [`${gw.url}/v1/publish/deployment.status`, deploymentStatus, traced],
      [`${gwOtel.url}/v1/publish/deployment.status`, deploymentStatus, traced],
      [`${gwMemory.url}/v1/publish/deployment.status`, deploymentStatus, traced],
    ];
    for (const [u, b, h] of warm) {
      await autocannon({ url: u, method: "POST", headers: { "content-type": "application/json", ...h }, body: b, connections: CONNECTIONS, duration: 2 });
    }
    const rows: Row[] = [];
    rows.push(await run("bare Hono 202", `${bare.url}/v1/publish/deployment.status`, deploymentStatus));
    rows.push(await run("gateway core publish (validated)", `${gw.url}/v1/publish/deployment.status`, deploymentStatus));
    rows.push(await run("gateway core publish, fast path off (Hono)", `${gwHono.url}/v1/publish/deployment.status`, deploymentStatus));
    rows.push(await run("gateway JetStream publish (validated)", `${gw.url}/v1/publish/transfer.completed`, transferCompleted));
    rows.push(
      await run("gateway core publish, auth required (token)", `${gwAuth.url}/v1/publish/deployment.status`, deploymentStatus, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    rows.push(await run("gateway core publish, traceparent, no SDK", `${gw.url}/v1/publish/deployment.status`, deploymentStatus, { headers: traced }));
    rows.push(await run("gateway core publish, traceparent, SDK on (in-memory exporter)", `${gwMemory.url}/v1/publish/deployment.status`, deploymentStatus, { headers: traced }));
    rows.push(await run("gateway core publish, traceparent, SDK on (OTLP)", `${gwOtel.url}/v1/publish/deployment.status`, deploymentStatus, { headers: traced }));
    rows.push(await run(`bare Hono 202 @${FIXED_RATE}/s`, `${bare.url}/v1/publish/deployment.status`, deploymentStatus, { rate: FIXED_RATE }));
    rows.push(await run(`gateway core publish @${FIXED_RATE}/s`, `${gw.url}/v1/publish/deployment.status`, deploymentStatus, { rate: FIXED_RATE }));

    const base = rows[0]!;
    const machine = `${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, nats-server ${natsVersion}`;
    const lines = [
      `# publish benchmark ${new Date().toISOString()}`,
      `machine: ${machine}; autocannon ${CONNECTIONS} connections, ${DURATION_S} s per row`,
      "",
      "| target | req/s | ratio to bare | p50 ms | p99 ms | non-2xx | errors |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...rows.map(
        (r) =>
          `| ${r.name} | ${Math.round(r.rps)} | ${r.name.includes("@") ? "-" : (r.rps / base.rps).toFixed(2)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`,
      ),
    ];
    process.stdout.write(lines.join("\n") + "\n");
    const row = (name: string) => rows.find((r) => r.name === name)!;
    const core = row("gateway core publish (validated)");
    reportMetrics({
      coreRatio: core.rps / base.rps,
      coreP99Ratio: core.p99 / Math.max(base.p99, 1),
      coreRps: core.rps,
      bareRps: base.rps,
      jsRatio: row("gateway JetStream publish (validated)").rps / base.rps,
      authRatio: row("gateway core publish, auth required (token)").rps / base.rps,
      failed: rows.reduce((n, r) => n + r.non2xx + r.errors, 0),
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
