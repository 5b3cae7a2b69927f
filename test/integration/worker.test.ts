/**
 * The Cloudflare Workers entry (src/worker.ts) under `wrangler dev` (workerd from
 * npm), against a real nats-server's WebSocket listener: publish, JetStream
 * acknowledgement, schemas, auth, request/reply, batches and SSE through the
 * worker, the NATS_TOKEN binding, no NATS connection left behind, and every 2xx
 * in NATS when the runtime is stopped mid-stream.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/security/passwords.js";
import { NatsServer } from "../support/nats-server.js";
import { collector, natsConnect, storedMessages, text } from "../support/nats.js";
import { freePort } from "../support/process.js";
import { rawSse } from "../support/sse.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "edge-token-0123456789abcdef";
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const PASSWORD = "edge-pässword ✓";
const CONFIG = {
  auth: {
    mode: "required",
    clients: [
      { name: "edge", token: `sha256:${createHash("sha256").update(TOKEN).digest("hex")}`, publish: { allow: ["wk.>", "transfer.>"] }, subscribe: { allow: ["wk.>"] } },
      // Workers' nodejs_compat has crypto.scrypt: passwords work there as on Node.
      { name: "edge-user", user: "edge-user", password: await hashPassword(PASSWORD), publish: { allow: ["wk.basic"] } },
    ],
  },
  jetstream: { streams: [{ name: "WK", subjects: ["wk.stored.>"] }] },
  sse: { heartbeatMs: 1_000 },
  // Held per isolate across requests (a test checks the third stream is refused).
  limits: { maxStreamsPerClient: 2 },
};

/** A `wrangler dev` of the worker on `port` with `vars` as bindings; resolves once it serves. */
async function startWrangler(port: number, state: string, vars: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; direct: { url: string; headers: Record<string, string> } }> {
  let output = "";
  const child = spawn(
    join(ROOT, "node_modules/.bin/wrangler"),
    ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, "--log-level", "debug", ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const direct = await new Promise<{ url: string; headers: Record<string, string> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev not ready in 60 s: ${output}`)), 60_000);
    const check = () => {
      const proxy = /"userWorkerUrl":\{[^}]*"port":"(\d+)"\}.*?"headers":\{"MF-Proxy-Shared-Secret":"([^"]+)"\}/.exec(output);
      if (!/Ready on http/.test(output) || !proxy) return;
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${proxy[1]}`, headers: { "MF-Proxy-Shared-Secret": proxy[2]! } });
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", () => (clearTimeout(timer), reject(new Error(`wrangler dev exited: ${output}`))));
  });
  return { child, output: () => output, direct };
}

/** Stops a wrangler dev at once. */
async function killWrangler(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
}

describe("Workers entry under wrangler dev", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let wrangler: ChildProcess;
  let url: string;
  /** The worker's own address behind wrangler's dev proxy, and the header that proxy adds. */
  let direct: { url: string; headers: Record<string, string> };
  let state: string;
  const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const publish = (subject: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/publish/${subject}`, { method: "POST", headers: { ...auth, ...headers }, body: JSON.stringify(body) });
  /** Connections the worker holds open on NATS right now. */
  const workerConnections = async () => {
    const connz = await (await fetch(`${server.monitorUrl}/connz?limit=1000`)).json();
    return (connz.connections as { name?: string }[]).filter((c) => c.name === "natsgate").length;
  };

  beforeAll(async () => {
    // A fixed WebSocket port: a test restarts the server, and the worker's NATS_URL must still hold.
    server = await NatsServer.start({ config: `websocket { port: ${await freePort()}, no_tls: true }` });
    nc = await natsConnect(server.url);
    // The worker only observes streams (it connects per request); a Node replica or the operator makes them.
    await (await jetstreamManager(nc)).streams.add({ name: "WK", subjects: ["wk.stored.>"] });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    state = mkdtempSync(join(tmpdir(), "natsgate-wrangler-"));
    ({ child: wrangler, direct } = await startWrangler(port, state, { NATS_URL: `ws://127.0.0.1:${server.wsPort}`, NATSGATE_CONFIG_JSON: JSON.stringify(CONFIG) }));
  }, 90_000);

  afterAll(async () => {
    await killWrangler(wrangler);
    await nc?.close();
    await server?.cleanup();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it("worker - /healthz and /readyz answer 200 with NATS reached over WebSocket", async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", nats: { connected: true } });
  });

  it("worker - the worker bundle (wrangler deploy --dry-run) holds no Node-only module: no src/node, prom-client, webhook dispatcher or @hono/node-server", async () => {
    const out = mkdtempSync(join(tmpdir(), "natsgate-wbundle-"));
    try {
      await new Promise<void>((resolve, reject) => {
        const p = spawn(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out, "--metafile", join(out, "meta.json")], { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: "ignore" });
        p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler deploy --dry-run exited ${code}`))));
      });
      const inputs = Object.keys(JSON.parse(readFileSync(join(out, "meta.json"), "utf8")).inputs as Record<string, unknown>);
      expect(inputs).toContain("src/worker.ts");
      expect(inputs.filter((f) => /^src\/node\/|^src\/webhooks\/(service|http-send|ssrf)\.ts|prom-client|@hono\/node-server|@opentelemetry\/sdk-/.test(f))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("worker - a publish reaches a NATS subscriber (core 202 with its trace context; JetStream 201); auth and schemas as on Node", async () => {
    const sub = await collector(nc, "wk.core");
    const core = await publish("wk.core", { n: 1 }, { traceparent: TRACEPARENT, "NatsH-Tenant": "acme" });
    expect(core.status).toBe(202);
    expect(await core.json()).toEqual({ subject: "wk.core" });
    const [msg] = await sub.next(1);
    expect(text(msg!)).toBe('{"n":1}');
    expect([msg!.headers?.get("traceparent"), msg!.headers?.get("Tenant")]).toEqual([TRACEPARENT, "acme"]);

    const stored = await publish("wk.stored.a", { n: 2 }, { "Idempotency-Key": "wk-1" });
    expect(stored.status).toBe(201);
    expect(await stored.json()).toEqual({ subject: "wk.stored.a", stream: "WK", seq: 1, duplicate: false });
    const again = await publish("wk.stored.a", { n: 2 }, { "Idempotency-Key": "wk-1" });
    expect(await again.json()).toMatchObject({ seq: 1, duplicate: true });

    expect((await publish("transfer.completed", { transferId: "t-1" })).status).toBe(422);
    expect((await fetch(`${url}/v1/publish/wk.core`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await publish("other.subject", {})).status).toBe(403);
    sub.unsubscribe();
  });

  it("worker - an SSE subscription receives what is published, with a cursor to resume from", async () => {
    const sse = await rawSse(`${url}/v1/subscribe?subject=wk.stored.>&access_token=${TOKEN}`);
    expect(sse.res.status).toBe(200);
    expect(sse.res.headers.get("content-type")).toBe("text/event-stream");
    await sse.until((t) => t.startsWith("retry:"));
    // Published through the worker too: both ends of the edge are the worker.
    expect((await publish("wk.stored.b", { n: 3 })).status).toBe(201);
    const got = await sse.until((t) => t.includes('"subject":"wk.stored.b"'));
    expect(got).toMatch(/^id: WK:2$/m);
    expect(JSON.parse(/^data: (.*"wk\.stored\.b".*)$/m.exec(got)![1]!)).toMatchObject({ subject: "wk.stored.b", data: { n: 3 }, stream: "WK", seq: 2 });

    // Resumes after id WK:1 from a new request: exactly the one event after it.
    const resumed = await rawSse(`${url}/v1/subscribe?subject=wk.stored.>&access_token=${TOKEN}`, { headers: { "last-event-id": "WK:1" } });
    const replay = await resumed.until((t) => t.includes('"subject":"wk.stored.b"'));
    expect(replay.match(/^id: /gm)).toHaveLength(1);
    sse.close();
    resumed.close();
    // Through wrangler's dev proxy the departure shows a few heartbeats later.
    await expect.poll(workerConnections, { timeout: 20_000 }).toBe(0);
  });

  it("worker - request/reply and a batch go through the worker as on Node", async () => {
    const responder = nc.subscribe("wk.rpc", {
      callback: (_e, m) => {
        const h = natsHeaders();
        h.set("Answered-By", "responder");
        m.respond(`echo:${text(m)}`, { headers: h });
      },
    });
    await nc.flush();
    const reply = await fetch(`${url}/v1/request/wk.rpc?timeout=2000`, { method: "POST", headers: auth, body: '{"q":1}' });
    expect(reply.status).toBe(200);
    expect(await reply.text()).toBe('echo:{"q":1}');
    expect(reply.headers.get("natsh-answered-by")).toBe("responder");
    responder.unsubscribe();
    const nobody = await fetch(`${url}/v1/request/wk.nobody`, { method: "POST", headers: auth, body: "{}" });
    expect([nobody.status, nobody.headers.get("retry-after")]).toEqual([503, expect.stringMatching(/^\d+$/)]);

    const sub = await collector(nc, "wk.batch.*");
    const ndjson = ['{"subject":"wk.batch.a","data":{"i":0}}', '{"subject":"other.x","data":{}}', '{"subject":"wk.batch.b","data":{"i":2}}'].join("\n");
    const batch = await fetch(`${url}/v1/publish`, { method: "POST", headers: { ...auth, "content-type": "application/x-ndjson" }, body: ndjson });
    expect(batch.status).toBe(200);
    expect((await batch.json()).results.map((r: { index: number; status: number }) => [r.index, r.status])).toEqual([[0, 202], [1, 403], [2, 202]]);
    expect((await sub.next(2)).map((m) => [m.subject, text(m)])).toEqual([["wk.batch.a", '{"i":0}'], ["wk.batch.b", '{"i":2}']]);
    sub.unsubscribe();
  });

  it("worker - a client leaving its SSE stream closes the stream's NATS connection; publishes leave none", async () => {
    // wrangler's dev proxy keeps reading a stream its client has left; the runtime's own
    // address shows what the Worker does when the client goes.
    const before = 0;
    const sse = await rawSse(`${direct.url}/v1/subscribe?subject=wk.>&access_token=${TOKEN}`, { headers: direct.headers });
    expect(sse.res.status).toBe(200);
    await sse.until((t) => t.startsWith("retry:"));
    expect(await workerConnections()).toBe(before + 1);
    sse.close();
    // The runtime learns the client is gone when a write fails: the next heartbeat or the one after.
    await expect.poll(workerConnections, { timeout: 10_000 }).toBe(before);
    for (let i = 0; i < 20; i++) expect((await publish("wk.core", { i })).status).toBe(202);
    await expect.poll(workerConnections, { timeout: 10_000 }).toBe(before);
  });

  it("worker - HTTP Basic as on Node: the right password publishes; a wrong one is 401 with both challenges", async () => {
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`edge-user:${password}`, "utf8").toString("base64")}`, "content-type": "application/json" });
    const sub = await collector(nc, "wk.basic");
    const ok = await fetch(`${url}/v1/publish/wk.basic`, { method: "POST", headers: basic(PASSWORD), body: '{"via":"basic"}' });
    expect(ok.status).toBe(202);
    expect(text((await sub.next(1))[0]!)).toBe('{"via":"basic"}');
    sub.unsubscribe();
    const wrong = await fetch(`${url}/v1/publish/wk.basic`, { method: "POST", headers: basic("wrong"), body: "{}" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="natsgate", Basic realm="natsgate", charset="UTF-8"');
    expect((await wrong.json()).detail).toBe("unknown user or wrong password");
  });

  it("worker - requests that need no NATS open no connection: /healthz, an unknown path, a caller who fails authentication", async () => {
    const total = async () => (await (await fetch(`${server.monitorUrl}/varz`)).json()).total_connections as number;
    const before = await total();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/v1/publish/wk.core`, { method: "POST", headers: { authorization: "Bearer wrong-token-0123456789" }, body: "{}" })).status).toBe(401);
    expect((await fetch(`${url}/v1/subscribe?subject=wk.core&access_token=wrong-token-0123456789`)).status).toBe(401);
    // A wrong password is checked before a connection is made (behind the same budgets as the app's
    // check, which then answers from what the first one found); so is a password from another site.
    const basic = (password: string) => `Basic ${Buffer.from(`edge-user:${password}`, "utf8").toString("base64")}`;
    const wrong = await fetch(`${url}/v1/publish/wk.basic`, { method: "POST", headers: { authorization: basic("wrong-again"), "content-type": "application/json" }, body: "{}" });
    expect([wrong.status, (await wrong.json()).detail]).toEqual([401, "unknown user or wrong password"]);
    const crossSite = await fetch(`${url}/v1/publish/wk.basic`, { method: "POST", headers: { authorization: basic(PASSWORD), "sec-fetch-site": "cross-site", "content-type": "text/plain" }, body: "{}" });
    expect(crossSite.status).toBe(401);
    expect(await total()).toBe(before);
    expect((await publish("wk.core", {})).status).toBe(202);
    expect(await total()).toBe(before + 1);
  });

  it("worker - limits hold across requests in an isolate: a client's third SSE stream is refused while two are open", async () => {
    const open = () => rawSse(`${url}/v1/subscribe?subject=wk.core&access_token=${TOKEN}`);
    const held = [await open(), await open()];
    expect(held.map((h) => h.res.status)).toEqual([200, 200]);
    const third = await open();
    expect(third.res.status).toBe(429);
    for (const h of [...held, third]) h.close();
    await expect.poll(workerConnections, { timeout: 20_000 }).toBe(0);
  });

  it("worker - an SSE stream whose NATS connection dies is ended, so its client comes back on a working one", async () => {
    const sse = await rawSse(`${url}/v1/subscribe?subject=wk.stored.>&access_token=${TOKEN}`);
    await sse.until((t) => t.startsWith("retry:"));
    await server.kill();
    try {
      const text = await sse.until((t) => t.includes("event: shutdown"), 10_000);
      expect(text).toContain('event: shutdown\ndata: {"reason":"shutdown"}');
    } finally {
      await server.restart();
      nc = await natsConnect(server.url);
    }
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 15_000 }).toBe(200);
    sse.close();
  });

  it("worker - publish latency through the worker (per-request connection), reported", async () => {
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      const res = await publish("wk.latency", { i });
      expect(res.status).toBe(202);
      await res.arrayBuffer();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
    console.log(`worker publish latency under wrangler dev, 200 sequential core publishes: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
    expect(Number(at(0.5))).toBeLessThan(500);
    await expect.poll(workerConnections, { timeout: 10_000 }).toBe(0);
  });

  it("worker - publishing continuously while the runtime is stopped: every 2xx-acknowledged event is in NATS", async () => {
    const seen = new Set<number>();
    const sub = nc.subscribe("wk.drain", { callback: (_e, m) => void seen.add(JSON.parse(text(m)).n) });
    await nc.flush();
    const acked = { core: [] as number[], js: [] as number[] };
    /** How the requests that were not acknowledged ended: refused with a status, or the connection broke. */
    const others = { refused: 0, broken: 0 };
    let n = 0;
    let running = true;
    const loop = async (subject: string, into: number[]) => {
      while (running) {
        const mine = n++;
        const res = await publish(subject, { n: mine }).catch(() => null);
        // A 2xx status line is an acknowledgement, whether or not the body arrived.
        if (res && res.status < 300) into.push(mine);
        else if (res) others.refused++;
        else others.broken++;
        await res?.arrayBuffer().catch(() => {});
      }
    };
    const loops = [...Array(3)].flatMap(() => [loop("wk.drain", acked.core), loop("wk.stored.drain", acked.js)]);
    await expect.poll(() => acked.core.length > 20 && acked.js.length > 20, { timeout: 20_000 }).toBe(true);
    wrangler.kill("SIGTERM");
    await new Promise((r) => wrangler.once("exit", r));
    running = false;
    await Promise.all(loops);
    await nc.flush();
    expect(acked.core.filter((i) => !seen.has(i))).toEqual([]);
    const stored = new Set((await storedMessages(await jetstreamManager(nc), "WK")).filter((m) => m.subject === "wk.stored.drain").map((m) => m.json.n));
    expect(acked.js.filter((i) => !stored.has(i))).toEqual([]);
    console.log(`worker SIGTERM: ${acked.core.length} core and ${acked.js.length} JetStream publishes acknowledged, all in NATS; ${others.refused} refused with a status, ${others.broken} broken off or refused a connection (the runtime gone)`);
    // Six loops were mid-request: each ended one way or another, none hung.
    expect(acked.core.length + acked.js.length + others.refused + others.broken).toBe(n);
    sub.unsubscribe();
  }, 60_000);
});

describe("Workers entry: the NATS_TOKEN binding", () => {
  it("worker - against a token-protected nats-server, NATS_TOKEN is what lets the worker publish", async () => {
    const natsToken = "nats-secret-0123456789";
    const server = await NatsServer.start({ config: `authorization { token: "${natsToken}" }\nwebsocket { port: ${await freePort()}, no_tls: true }` });
    const nc = await natsConnect(server.url, { token: natsToken });
    const state = mkdtempSync(join(tmpdir(), "natsgate-wrangler-"));
    const open = { auth: { mode: "none" } };
    let child: ChildProcess | undefined;
    try {
      const sub = await collector(nc, "wk.token");
      const port = await freePort();
      ({ child } = await startWrangler(port, state, { NATS_URL: `ws://127.0.0.1:${server.wsPort}`, NATS_TOKEN: natsToken, NATSGATE_CONFIG_JSON: JSON.stringify(open) }));
      const res = await fetch(`http://127.0.0.1:${port}/v1/publish/wk.token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"t":1}' });
      expect(res.status).toBe(202);
      expect((await sub.next(1)).map(text)).toEqual(['{"t":1}']);
      await killWrangler(child);
      // The same worker without the binding is refused by the server: 503, nothing published.
      const port2 = await freePort();
      ({ child } = await startWrangler(port2, state, { NATS_URL: `ws://127.0.0.1:${server.wsPort}`, NATSGATE_CONFIG_JSON: JSON.stringify(open) }));
      const refused = await fetch(`http://127.0.0.1:${port2}/v1/publish/wk.token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"t":2}' });
      expect(refused.status).toBe(503);
      expect((await refused.json()).type).toBe("https://natsgate.dev/problems/nats-unavailable");
      sub.unsubscribe();
    } finally {
      await killWrangler(child);
      await nc.close();
      await server.cleanup();
      rmSync(state, { recursive: true, force: true });
    }
  }, 120_000);
});
