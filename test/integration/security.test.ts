import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki } from "../support/certs.js";
import { publishVia, useGateway } from "../support/fixture.js";
import { startGateway, type TestGateway } from "../support/gateway.js";

const TOKEN_A = "client-a-token-0123456789";
const TOKEN_B = "client-b-token-0123456789";
const clients = [
  { name: "a", token: TOKEN_A, publish: { allow: [">"] } },
  { name: "b", token: TOKEN_B, publish: { allow: [">"] } },
];

describe("HTTP hardening: security headers, CORS, rate limits, proxies, TLS", () => {
  const f = useGateway({
    auth: { mode: "required", clients },
    // Slow refill (one token per 5 s) so the test's own pace cannot add a token.
    rateLimit: { perSecond: 0.2, burst: 3 },
    server: { cors: { origins: ["https://console.example"] } },
  });
  const post = publishVia(() => f.gw);
  let proxied: TestGateway;

  beforeAll(async () => {
    proxied = await startGateway(f.server.url, { server: { trustProxy: true } });
  });
  afterAll(async () => {
    await proxied?.close();
  });

  it("headers - every response, errors included, carries the standard security headers", async () => {
    for (const res of [await f.gw.fetch("/healthz"), await post("a.b", "{}"), await f.gw.fetch("/nope")]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("strict-transport-security")).toBeNull();
    }
  });

  it("cors - a configured origin gets a preflight answer and readable headers; others get none", async () => {
    const preflight = await f.gw.fetch("/v1/publish/a.b", {
      method: "OPTIONS",
      headers: { origin: "https://console.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, natsh-x-tenant" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization,natsh-x-tenant");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");

    const actual = await post("cors.test", "{}", { origin: "https://console.example", authorization: `Bearer ${TOKEN_B}` });
    expect(actual.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(actual.headers.get("access-control-expose-headers")).toContain("Retry-After");

    const other = await f.gw.fetch("/healthz", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("rate limit - past the burst a client gets 429 with Retry-After and RateLimit headers; others are unaffected", async () => {
    const statuses: number[] = [];
    let last!: Response;
    for (let i = 0; i < 4; i++) {
      last = await post("rl.test", "{}", { authorization: `Bearer ${TOKEN_A}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(last.headers.get("retry-after")).toBe("5");
    expect(last.headers.get("ratelimit-limit")).toBe("3");
    expect(last.headers.get("ratelimit-remaining")).toBe("0");
    expect(await last.json()).toMatchObject({ status: 429, title: "Too many requests" });
    const other = await post("rl.test", "{}", { authorization: `Bearer ${TOKEN_B}` });
    expect(other.status).toBe(202);
    expect(other.headers.get("ratelimit-remaining")).toBe("1");
    expect(f.gw.audit.at(-2)).toMatchObject({ action: "auth", outcome: "limited", status: 429, client: "a" });
  });

  it("proxies - X-Forwarded-For is used for the audit only with server.trustProxy, read from the right", async () => {
    await post("xff.test", "{}", { authorization: `Bearer ${TOKEN_B}`, "x-forwarded-for": "203.0.113.9" });
    expect(f.gw.audit.at(-1)).toMatchObject({ subject: "xff.test", remote: "127.0.0.1" });
    // One trusted proxy appended 10.0.0.1, the address it saw; 203.0.113.9 is whatever the client wrote.
    await proxied.fetch("/v1/publish/xff.test", { method: "POST", body: "{}", headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.9, 10.0.0.1" } });
    expect(proxied.audit.at(-1)).toMatchObject({ subject: "xff.test", remote: "10.0.0.1" });
  });

  it("tls - server.tls serves HTTPS with the configured certificate (and HSTS)", async () => {
    const pki = createTestPki();
    const tls = await startGateway(f.server.url, { server: { tls: { cert: pki.serverCert, key: pki.serverKey } } });
    try {
      expect(tls.url.startsWith("https://")).toBe(true);
      const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const req = httpsRequest(`${tls.url}/healthz`, { ca: readFileSync(pki.ca) }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, headers: res.headers });
        });
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
      // A client that does not trust the CA refuses the connection.
      await expect(fetch(`${tls.url}/healthz`)).rejects.toThrow();
    } finally {
      await tls.close();
    }
  });
});
