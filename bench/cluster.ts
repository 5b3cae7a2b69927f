/**
 * Publish throughput with one versus three gateway replicas on a three-node NATS
 * cluster, side by side in one run: a stream with three replicas (JetStream
 * acknowledged, 201) and a core subject (202). One replica takes all the load;
 * then three replicas, each connected to its own node, share it (one autocannon
 * per replica, the same connections in all). Everything shares one machine's
 * cores with the load generator, so read the ratio with the machine in mind.
 *
 *   npx tsx bench/cluster.ts [--duration 5] [--connections 32]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { NatsCluster } from "../test/support/nats-cluster.js";
import { benchArgs, startProcess } from "./support.js";

const args = benchArgs();
const DURATION_S = Number(args.get("duration") ?? 5);
const CONNECTIONS = Number(args.get("connections") ?? 32);
const body = JSON.stringify({ deploymentId: "dep-9", cluster: "prod-eu", status: "succeeded", updatedAt: new Date().toISOString() });

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

/** Requests/s summed over `urls`, each driven by its own autocannon with a share of the connections. */
async function load(urls: string[], path: string): Promise<{ rps: number; p99: number; non2xx: number }> {
  const results = await Promise.all(
    urls.map((u) => autocannon({ url: u + path, method: "POST", headers: { "content-type": "application/json" }, body, connections: Math.ceil(CONNECTIONS / urls.length), duration: DURATION_S })),
  );
  return { rps: results.reduce((s, r) => s + r.requests.average, 0), p99: Math.max(...results.map((r) => r.latency.p99)), non2xx: results.reduce((s, r) => s + r.non2xx, 0) };
}

async function main(): Promise<void> {
  const cluster = await NatsCluster.start(3);
  const config = join(mkdtempSync(join(tmpdir(), "natsgate-bench-cluster-")), "config.json");
  writeFileSync(config, JSON.stringify({ jetstream: { streams: [{ name: "FLEET", subjects: ["deployment.>"], replicas: 3 }] } }));
  const gateways = await Promise.all(cluster.urls.map((u) => startProcess({ NATS_URL: u, NATSGATE_CONFIG: config })));
  try {
    const urls = gateways.map((g) => g.url);
    for (const u of urls) await waitReady(u);
    // Warm up every replica on both paths.
    await load(urls, "/v1/publish/deployment.status");
    await load(urls, "/v1/publish/core.status");
    const rows: [string, Awaited<ReturnType<typeof load>>][] = [];
    for (const [kind, path] of [["JetStream R3 (201)", "/v1/publish/deployment.status"], ["core (202)", "/v1/publish/core.status"]] as const) {
      rows.push([`${kind}, 1 replica`, await load(urls.slice(0, 1), path)]);
      rows.push([`${kind}, 3 replicas`, await load(urls, path)]);
    }
    const lines = [
      `# cluster publish benchmark ${new Date().toISOString()}`,
      `machine: ${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}; 3 nats-server nodes (R3 stream), gateways and autocannon on the same cores; ${CONNECTIONS} connections in all, ${DURATION_S} s per row`,
      "",
      "| target | req/s | ratio to 1 replica | p99 ms | non-2xx |",
      "|---|---:|---:|---:|---:|",
      ...rows.map(([name, r], i) => `| ${name} | ${Math.round(r.rps)} | ${(r.rps / rows[i - (i % 2)]![1].rps).toFixed(2)} | ${r.p99} | ${r.non2xx} |`),
    ];
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    for (const g of gateways) g.child.kill("SIGTERM");
    await cluster.cleanup();
  }
}

await main();
