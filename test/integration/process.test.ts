import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { answers, findOnPath } from "../../src/node/embedded-nats.js";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect, storedMessages } from "../support/nats.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { freePort, runGateway, type GatewayProcess } from "../support/process.js";
import { rawSse } from "../support/sse.js";
import { wsClient } from "../support/ws.js";

const PATH_WITH_NATS = [process.env.PATH, "/usr/sbin", "/usr/local/sbin"].join(":");
const started: GatewayProcess[] = [];
const servers: NatsServer[] = [];

afterEach(async () => {
  for (const p of started.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill();
    await p.exited;
  }
  for (const s of servers.splice(0)) await s.cleanup();
});

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "natsgate-proc-"));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

function gateway(args: string[], env: Record<string, string>): GatewayProcess {
  const p = runGateway(args, { LOG_LEVEL: "info", PORT: "0", HOST: "127.0.0.1", PATH: PATH_WITH_NATS, ...env });
  started.push(p);
  return p;
}

describe("process (npm start)", () => {
  it.each([
    ["server.port: Too big: expected number to be <=65535", "config.yaml", "server:\n  port: 70000\n"],
    ["nats.sever: unknown key sever", "config.yaml", "nats:\n  sever: nats://x\n"],
    ["jetstream.streams[0].name:", "config.json", JSON.stringify({ jetstream: { streams: [{ name: "bad name", subjects: ["a.>"] }] } })],
    ["jetstream.streams[0].maxAge: expected a duration", "config.yaml", "jetstream:\n  streams:\n    - name: A\n      subjects: [a.>]\n      maxAge: forever\n"],
    ["is not valid YAML", "config.yaml", "server: [1, 2\n"],
    ["tracing.otlpEndpoint: an http:// or https:// URL such as http://collector:4318", "config.yaml", "tracing:\n  otlpEndpoint: collector:4318\n"],
  ])("config - a bad file exits 1 with one line: %s", async (expected, name, content) => {
    // PORT would override (and so hide) a bad server.port; leave it unset here.
    const p = gateway(["--config", tempFile(name, content)], { PORT: "" });
    const { code } = await p.exited;
    expect(code).toBe(1);
    const lines = p.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("natsgate: invalid configuration: ");
    expect(lines[0]).toContain(expected);
  });

  it("config - a bad PORT override exits 1 naming PORT", async () => {
    const p = gateway([], { PORT: "eighty" });
    expect((await p.exited).code).toBe(1);
    expect(p.output().trim()).toBe('natsgate: invalid configuration: PORT: expected a port number (0-65535), got "eighty"');
  });

  it("embedded - without nats-server on PATH and nothing listening, exits 1 with an install hint", async () => {
    const port = await freePort();
    const config = tempFile("c.yaml", `nats:\n  servers: [nats://127.0.0.1:${port}]\n`);
    const p = gateway(["--config", config], { PATH: "/nonexistent" });
    expect((await p.exited).code).toBe(1);
    const last = p.output().trim().split("\n").at(-1)!;
    expect(last).toMatch(/^natsgate: nats-server was not found on PATH and nothing answers at nats:\/\/127\.0\.0\.1:\d+: install it \(Debian\/Ubuntu: apt-get install nats-server/);
  });

  it("embedded - starts nats-server with JetStream when nothing answers, serves, and stops it on SIGTERM", async () => {
    expect(findOnPath("nats-server", PATH_WITH_NATS)).toBeDefined();
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "natsgate-data-"));
    const config = tempFile(
      "c.yaml",
      `nats:\n  servers: [nats://127.0.0.1:${port}]\njetstream:\n  streams:\n    - { name: EVENTS, subjects: ["transfer.>"] }\n`,
    );
    const p = gateway(["--config", config], { NATSGATE_DATA_DIR: dataDir });
    const embedded = await p.waitForLog("started embedded nats-server (nothing was answering there)");
    expect(embedded).toMatchObject({ url: `nats://127.0.0.1:${port}`, dataDir: join(dataDir, "jetstream") });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    await p.waitForLog("created stream");
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 5_000 }).toBe(200);

    const res = await fetch(`${url}/v1/publish/transfer.x`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ subject: "transfer.x", stream: "EVENTS", seq: 1, duplicate: false });

    p.child.kill("SIGTERM");
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(await answers("127.0.0.1", port)).toBe(false);
  });

  it("shutdown - SIGTERM finishes the in-flight request, drains NATS and exits 0", async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const nc = await natsConnect(server.url);
    let received!: () => void;
    const requestArrived = new Promise<void>((r) => (received = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    nc.subscribe("svc.slow", {
      callback: (_err, msg) => {
        received();
        void released.then(() => msg.respond(new TextEncoder().encode("done")));
      },
    });
    await nc.flush();

    const p = gateway([], { NATS_URL: server.url });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    await p.waitForLog("connected to NATS");
    expect(p.output()).not.toContain("started embedded nats-server");

    const inFlight = fetch(`${url}/v1/request/svc.slow?timeout=10000`, { method: "POST", body: "x" });
    await requestArrived;
    p.child.kill("SIGTERM");
    await p.waitForLog("draining");
    // New connections are refused while the old request is still being served.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("done");
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.output()).toContain('"msg":"stopped"');
    await nc.close();
  });

  it("shutdown - SIGTERM ends open SSE streams with event: shutdown and exits 0 without waiting for them", async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const p = gateway([], { NATS_URL: server.url });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    await p.waitForLog("connected to NATS");
    const raw = await rawSse(`${url}/v1/subscribe?subject=live.%3E`);
    await raw.until((t) => t.startsWith("retry:"));
    const started = Date.now();
    p.child.kill("SIGTERM");
    await raw.ended;
    expect(raw.text().endsWith('event: shutdown\ndata: {"reason":"shutdown"}\n\n')).toBe(true);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    // Well under server.shutdownTimeoutMs (10 s): the stream did not hold the drain open.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("shutdown - SIGTERM closes WebSockets with 1001 and exits 0", async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const p = gateway([], { NATS_URL: server.url });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    await p.waitForLog("connected to NATS");
    const c = await wsClient(`${url.replace("http", "ws")}/v1/ws`);
    c.send({ op: "sub", sid: "a", subject: "live.x" });
    c.send({ op: "ping" });
    await c.next((f) => f.op === "pong");
    p.child.kill("SIGTERM");
    expect(await c.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it("shutdown - publishing continuously through SIGTERM: every 2xx-acknowledged event is in NATS, core and JetStream", async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const nc = await natsConnect(server.url);
    const coreSeen = new Set<number>();
    nc.subscribe("drain.core", { callback: (_err, m) => void coreSeen.add(JSON.parse(new TextDecoder().decode(m.data)).n) });
    await nc.flush();
    const config = tempFile("c.json", JSON.stringify({ jetstream: { streams: [{ name: "DRAIN", subjects: ["drain.js"] }] } }));
    const p = gateway(["--config", config], { NATS_URL: server.url });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    // As a load balancer would: traffic once /readyz says the streams are in place.
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 10_000 }).toBe(200);

    const acked = { core: [] as number[], js: [] as number[] };
    const outcomes = new Map<string, number>();
    let n = 0;
    let running = true;
    const loop = async (subject: "drain.core" | "drain.js", into: number[]) => {
      while (running) {
        const mine = n++;
        const res = await fetch(`${url}/v1/publish/${subject}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: mine }) }).catch(() => null);
        const key = res ? String(res.status) : "no connection";
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        // A 2xx status line is an acknowledgement, whether or not the body arrived.
        if (res && res.status < 300) into.push(mine);
        await res?.arrayBuffer().catch(() => {});
      }
    };
    const loops = [...Array(4)].flatMap(() => [loop("drain.core", acked.core), loop("drain.js", acked.js)]);
    await expect.poll(() => acked.core.length > 50 && acked.js.length > 50, { timeout: 10_000 }).toBe(true);
    p.child.kill("SIGTERM");
    expect(await p.exited).toEqual({ code: 0, signal: null });
    running = false;
    await Promise.all(loops);

    // Every 2xx was published before the process exited; clients saw refusals, never a silent loss.
    await nc.flush();
    expect(acked.core.filter((i) => !coreSeen.has(i))).toEqual([]);
    const stored = new Set((await storedMessages(await jetstreamManager(nc), "DRAIN")).map((m) => m.json.n));
    expect(acked.js.filter((i) => !stored.has(i))).toEqual([]);
    expect([...outcomes.keys()].every((k) => ["201", "202", "503", "no connection"].includes(k)), JSON.stringify([...outcomes])).toBe(true);
    await nc.close();
  });

  it("default config - with no --config the README's transfer.completed is stored (201) and SSE resumes from its id", async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const p = gateway([], { NATS_URL: server.url });
    const { url, config } = (await p.waitForLog("natsgate listening")) as { url: string; config: string };
    expect(config).toBe(join(fileURLToPath(new URL("../..", import.meta.url)), "natsgate.yaml"));
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 5_000 }).toBe(200);
    const event = (id: string) =>
      JSON.stringify({ transferId: id, imageId: "img-42", source: "s3://uploads/img-42", destination: "registry.internal/img-42", sizeBytes: 1048576, durationMs: 812, completedAt: "2026-11-24T20:00:00Z" });
    const publish = (id: string) =>
      fetch(`${url}/v1/publish/transfer.completed`, { method: "POST", body: event(id), headers: { "content-type": "application/json", "idempotency-key": id } });
    const first = await publish("tr-1001");
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ subject: "transfer.completed", stream: "EVENTS", seq: 1, duplicate: false });
    expect((await publish("tr-1002")).status).toBe(201);
    const sse = await rawSse(`${url}/v1/subscribe?subject=transfer.completed`, { headers: { "last-event-id": "EVENTS:1" } });
    const text = await sse.until((t) => t.includes("id: EVENTS:2"));
    sse.close();
    expect(text).toContain('"transferId":"tr-1002"');
    expect(text).not.toContain('"transferId":"tr-1001"');
    expect((await fetch(`${url}/v1/publish/orders.created`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(202);
  });

  it("default config - an existing EVENTS stream is left as it is, and the gateway still becomes ready", async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const nc = await natsConnect(server.url);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"] });
    const p = gateway([], { NATS_URL: server.url });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    expect(await p.waitForLog("stream exists with other settings; leaving it as it is")).toMatchObject({ stream: "EVENTS", subjects: ["events.>"] });
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 5_000 }).toBe(200);
    expect((await jsm.streams.info("EVENTS")).config.subjects).toEqual(["events.>"]);
    await nc.close();
  });

  it("nats - with NATS_URL it serves 503 until the server appears, then connects and publishes", async () => {
    const port = await freePort();
    const p = gateway([], { NATS_URL: `nats://127.0.0.1:${port}` });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    const publish = await fetch(`${url}/v1/publish/a.b`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(publish.status).toBe(503);
    expect(publish.headers.get("retry-after")).toBe("2");
    // Nothing was started on the NATS_URL port: an explicit URL is never embedded.
    expect(p.output()).not.toContain("embedded");

    const server = await NatsServer.start({ port });
    servers.push(server);
    await p.waitForLog("connected to NATS");
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 5_000 }).toBe(200);
    const after = await fetch(`${url}/v1/publish/a.b`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(after.status).toBe(202);
  });
});

describe("process - OpenTelemetry SDK (issue 12, item 3)", () => {
  it("otel - OTEL_EXPORTER_OTLP_ENDPOINT or tracing.otlpEndpoint starts the SDK (flushed on SIGTERM); without either no SDK module is even loaded", async () => {
    const received: { path: string; type: string | undefined; body: string }[] = [];
    const { createServer } = await import("node:http");
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ path: req.url ?? "", type: req.headers["content-type"], body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    const recorder = fileURLToPath(new URL("../support/record-imports.mjs", import.meta.url));
    const sdkModules = (log: string) =>
      [...new Set(readFileSync(log, "utf8").split("\n").flatMap((u) => /node_modules\/@opentelemetry\/([a-z-]+)\//.exec(u)?.[1] ?? []))].sort();
    try {
      const server = await NatsServer.start();
      servers.push(server);
      const config = tempFile("c.yaml", `tracing:\n  otlpEndpoint: ${endpoint}\n  serviceName: edge-ingest\n`);
      const runs: { args: string[]; env: Record<string, string>; service?: string }[] = [
        { args: [], env: {} },
        { args: [], env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, service: "natsgate" },
        { args: ["--config", config], env: {}, service: "edge-ingest" },
      ];
      for (const run of runs) {
        received.length = 0;
        const log = tempFile("imports.log", "");
        const p = gateway(run.args, { NATS_URL: server.url, NODE_OPTIONS: `--import ${recorder}`, NATSGATE_IMPORT_LOG: log, ...run.env });
        const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
        await p.waitForLog("connected to NATS");
        const res = await fetch(`${url}/v1/publish/otel.check`, { method: "POST", body: "{}", headers: { "content-type": "application/json", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
        expect(res.status).toBe(202);
        p.child.kill("SIGTERM");
        expect((await p.exited).code).toBe(0);
        if (!run.service) {
          // The API, its W3C propagator (core) and attribute names are what the gateway traces through;
          // nothing of the SDK or the exporter is resolved, so nothing is sent.
          expect(sdkModules(log)).toEqual(["api", "core", "semantic-conventions"]);
          expect(received).toEqual([]);
          continue;
        }
        expect(sdkModules(log)).toEqual(expect.arrayContaining(["api", "exporter-trace-otlp-http", "resources", "sdk-trace-node"]));
        expect(p.output()).toContain(`"msg":"OpenTelemetry tracing on","otlp":"${endpoint}"`);
        // The batch was flushed by the shutdown: the SERVER and PRODUCER spans of the caller's trace, as OTLP/HTTP JSON.
        expect(received.map((r) => [r.path, r.type])).toEqual([["/v1/traces", "application/json"]]);
        const body = JSON.parse(received[0]!.body);
        const service = body.resourceSpans[0].resource.attributes.find((a: any) => a.key === "service.name");
        expect(service.value).toEqual({ stringValue: run.service });
        const spans = body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans));
        expect(spans.map((s: any) => [s.name, s.traceId]).sort()).toEqual([
          ["POST /v1/publish/:subject", "4bf92f3577b34da6a3ce929d0e0e4736"],
          ["publish otel.check", "4bf92f3577b34da6a3ce929d0e0e4736"],
        ]);
      }
    } finally {
      collector.close();
    }
  }, 45_000);

  it("otel - an endpoint that is not an http(s) URL exits 1 naming the variable; a collector that is down does not fail the shutdown", async () => {
    const bad = gateway([], { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" });
    expect((await bad.exited).code).toBe(1);
    expect(bad.output().trim()).toBe('natsgate: invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https:// URL such as http://collector:4318, got "collector:4318"');
    const server = await NatsServer.start();
    servers.push(server);
    const p = gateway([], { NATS_URL: server.url, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    const { url } = (await p.waitForLog("natsgate listening")) as { url: string };
    await p.waitForLog("connected to NATS");
    expect((await fetch(`${url}/v1/publish/otel.down`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(202);
    const started = Date.now();
    p.child.kill("SIGTERM");
    expect((await p.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 30_000);
});
