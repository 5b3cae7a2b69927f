/**
 * Bad input answers 4xx with a problem, never 5xx (issue 11, item 7): a cookie
 * that is not percent-encoding, JetStream control headers from clients, a
 * webhook URL that does not parse, webhook ids outside the grammar, and a
 * percent-encoded route prefix that used to skip the strict subject decoding.
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import { connect } from "node:net";
import { exportJWK } from "jose";
import { afterAll, beforeAll } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { signToken } from "../support/jwt.js";
import { NatsServer } from "../support/nats-server.js";
import { describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { wsClient } from "../support/ws.js";
import { collector, natsConnect } from "../support/nats.js";
import { createLogger } from "../../src/logger.js";

describe("bad input - 4xx, never 5xx", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "S", subjects: ["s.>"] }] } });
  const problem = async (res: Response, status: number, detail: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await res.json()).detail).toBe(detail);
  };
  const publish = (headers: Record<string, string>) => f.gw.fetch("/v1/publish/s.x", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });

  it("a natsgate_token cookie that is not valid percent-encoding is 401", async () => {
    await problem(await f.gw.fetch("/v1/subscribe?subject=a", { headers: { cookie: "natsgate_token=%zz" } }), 401, "malformed bearer token");
  });

  it.each(["Nats-Rollup", "Nats-Expected-Last-Sequence", "Nats-Msg-Id", "Nats-TTL", "nats-expected-stream"])("NatsH-%s from a client is 400: only the gateway sets NATS control headers", async (name) => {
    const res = await publish({ [`NatsH-${name}`]: "x" });
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/^header natsh-nats-[a-z-]+ would set the NATS control header Nats-[A-Za-z-]+; use Idempotency-Key, Expect-Stream or Expect-Last-Sequence$/);
    const batch = await f.gw.fetch("/v1/publish", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ subject: "s.b", data: {}, headers: { [`NatsH-${name}`]: "x" } }]) });
    expect((await batch.json()).results[0].status).toBe(400);
  });

  it("a webhook URL that does not parse is 400", async () => {
    const res = await f.gw.fetch("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ subjects: ["s.a"], url: "http://x y/" }) });
    expect(res.status).toBe(400);
  });

  it.each([
    ["PUT", "x=y"],
    ["PUT", "a".repeat(80)],
    ["DELETE", "x=y"],
    ["GET", "%20"],
    ["POST", "x.y/test"],
  ])("%s /v1/webhooks/%s (outside the id grammar) is 400", async (method, id) => {
    const body = method === "PUT" ? JSON.stringify({ subjects: ["s.b"], url: "https://example.com/" }) : undefined;
    const res = await f.gw.fetch(`/v1/webhooks/${id}`, { method, headers: { "content-type": "application/json" }, body });
    await problem(res, 400, "a webhook id is 1 to 64 letters, digits, '-' and '_'");
  });

  it("a percent-encoded route prefix meets the same strict subject decoding", async () => {
    await problem(
      await f.gw.fetch("/v1/%70ublish/a%zz", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
      400,
      'subject "a%zz" is invalid: it contains a percent sign that is not a valid %XX escape',
    );
    const ok = await f.gw.fetch("/v1/%70ublish/s.%78", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(await ok.json()).toMatchObject({ subject: "s.x", stream: "S" });
  });
});

/**
 * A raw HTTP request (fetch can send neither Upgrade nor a raw # in the target);
 * resolves with the status and body.
 */
function rawRequest(url: string, headers: Record<string, string>, opts: { method?: string; path?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, method: opts.method, ...(opts.path ? { path: opts.path } : {}) });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    // A refused handshake may answer with a bare status line and close.
    req.on("upgrade", (res, socket) => (socket.destroy(), resolve({ status: res.statusCode!, body: "" })));
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("bad input - WebSocket upgrades (issue 11, item 5)", () => {
  const f = useGateway({ rateLimit: { perSecond: 1000, burst: 1000, maxStreams: 2 } });

  it("an upgrade to anything but WebSocket is 400 and closed, not left open unanswered", async () => {
    const res = await rawRequest(`${f.gw.url}/healthz`, { connection: "Upgrade", upgrade: "h2c" });
    expect(res.status).toBe(400);
  });

  it("a raw # in the request target ends the path, for the subject as for the router", async () => {
    const res = await rawRequest(`${f.gw.url}/v1/publish/s.a`, { "content-type": "application/json" }, { method: "POST", path: "/v1/publish/s.a#b", body: "{}" });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ subject: "s.a" });
  });

  it("Upgrade: websocket without Connection: upgrade is 400 with a problem, not an empty 500", async () => {
    const res = await rawRequest(`${f.gw.url}/v1/ws`, { upgrade: "websocket" });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).detail).toBe("GET /v1/ws is a WebSocket: send Upgrade: websocket and Connection: upgrade");
  });

  it("failed handshakes give their stream slot back: with maxStreams 2, a third socket still opens", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(`${f.gw.url}/v1/ws`, { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "99", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" });
      expect(res.status).toBe(400);
    }
    await expect.poll(() => f.gw.app.gateway.streamSlots!.count("ip:127.0.0.1")).toBe(0);
    const ws = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`);
    ws.send({ op: "ping" });
    expect(await ws.next()).toEqual({ op: "pong", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    ws.close();
  });
});

describe("batches - items are counted before any is parsed (issue 11, item 3)", () => {
  const f = useGateway({ server: { maxBatchItems: 3 } });
  const batch = (type: string, body: string) => f.gw.fetch("/v1/publish", { method: "POST", headers: { "content-type": type }, body });
  const item = (i: number) => JSON.stringify({ subject: `b.${i}`, data: { i } });

  it("a JSON array or NDJSON body over maxBatchItems is 400; at the limit it is published", async () => {
    expect((await batch("application/json", `[${[1, 2, 3].map(item).join(",")}]`)).status).toBe(200);
    expect((await batch("application/x-ndjson", [1, 2, 3].map(item).join("\n") + "\n\n")).status).toBe(200);
    for (const [type, body] of [
      ["application/json", `[${[1, 2, 3, 4].map(item).join(",")}]`],
      ["application/x-ndjson", [1, 2, 3, 4].map(item).join("\n")],
      ["application/json", "[" + "{},".repeat(1_000_000) + "{}]"],
    ] as const) {
      const res = await batch(type, body);
      expect(res.status).toBe(400);
      expect((await res.json()).detail).toBe("a batch holds at most 3 items; this one has more");
    }
  });
});

describe("bad input - a client gone while its WebSocket upgrade waits on authentication", () => {
  let nats: NatsServer;
  let jwks: Server;
  let gw: TestGateway;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  beforeAll(async () => {
    nats = await NatsServer.start();
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    // A slow key server: authentication waits 300 ms for it.
    jwks = createServer((_req, res) => void setTimeout(() => res.end(JSON.stringify({ keys: [jwk] })), 300));
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    const port = (jwks.address() as { port: number }).port;
    gw = await startGateway(nats.url, {
      auth: { mode: "required", jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, jwksCooldownMs: 0 } },
      rateLimit: { perSecond: 1000, burst: 1000, maxStreams: 2 },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => jwks?.close(r));
    await nats?.cleanup();
  });

  it("gives its stream slot back: after two such resets a third socket still opens", async () => {
    const token = await signToken(privateKey, { alg: "RS256", kid: "k1", subject: "alice", claims: { natsgate: { subscribe: { allow: ["a.>"] } } } });
    const { port } = new URL(gw.url);
    for (let i = 0; i < 2; i++) {
      const socket = connect(Number(port), "127.0.0.1");
      socket.on("error", () => {});
      socket.write(
        `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      await new Promise((r) => setTimeout(r, 50));
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 600)); // both authentications finish meanwhile
    expect(gw.app.gateway.streamSlots!.count("jwt:alice")).toBe(0);
    const ws = await wsClient(`${gw.url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${token}` });
    ws.send({ op: "ping" });
    expect(await ws.next()).toEqual({ op: "pong", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    ws.close();
  });
});

describe("bad input - slow request bodies (issue 11, item 9)", () => {
  const f = useGateway({ server: { readTimeoutMs: 500, headersTimeoutMs: 400 } });

  it("a body trickled slower than server.readTimeoutMs is cut off with 408, and the gateway serves others meanwhile", async () => {
    const { port } = new URL(f.gw.url);
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => (answer += d));
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    socket.write("POST /v1/publish/slow.x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    const started = Date.now();
    const trickle = setInterval(() => socket.writable && socket.write(" "), 100);
    expect((await f.gw.fetch("/healthz")).status).toBe(200);
    await closed;
    clearInterval(trickle);
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("bad input - failed authentication is rate-limited per address (issue 11, item 9)", () => {
  const f = useGateway({ auth: { mode: "required", clients: [{ name: "ok", token: "a-valid-token-0123456789" }] }, rateLimit: { perSecond: 0.5, burst: 3 } });

  it("after rateLimit.burst wrong tokens from one address, further attempts are 429 with Retry-After", async () => {
    const attempt = () => f.gw.fetch("/v1/me", { headers: { authorization: "Bearer guess-000000000000000" } });
    for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(f.gw.audit.at(-1)).toMatchObject({ action: "auth", outcome: "limited", status: 429 });
    // The right token is a different budget: it still works.
    expect((await f.gw.fetch("/v1/me", { headers: { authorization: "Bearer a-valid-token-0123456789" } })).status).toBe(200);
  });
});

describe("bad input - a body that breaks off", () => {
  const logs: Record<string, unknown>[] = [];
  const f = {} as { server: NatsServer; gw: TestGateway };
  beforeAll(async () => {
    f.server = await NatsServer.start();
    f.gw = await startGateway(f.server.url, {}, { logger: createLogger("info", (line) => logs.push(JSON.parse(line))) });
  });
  afterAll(async () => {
    await f.gw?.close();
    await f.server?.cleanup();
  });

  it("a client that closes mid-body is not logged as a 500 (nothing failed on our side) and nothing is published", async () => {
    const nc = await natsConnect(f.server.url);
    const sub = await collector(nc, "cut.>");
    const { port } = new URL(f.gw.url);
    for (const [path, framing] of [
      ["/v1/publish/cut.a", "Content-Length: 100"],
      ["/v1/publish/cut.b", "Transfer-Encoding: chunked"],
      ["/v1/publish", "Content-Length: 100"],
    ] as const) {
      const socket = connect(Number(port), "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}\r\n\r\n${framing.startsWith("Transfer") ? "5\r\n{\"a\":\r\n" : '{"a":'}`);
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
    }
    // The gateway is still fine, and the break-offs were never taken for failures of its own.
    expect((await f.gw.fetch("/v1/publish/cut.ok", { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(202);
    expect((await sub.next(1)).map((m) => m.subject)).toEqual(["cut.ok"]);
    expect(logs.filter((l) => l.level === "error")).toEqual([]);
    await nc.close();
  });
});
