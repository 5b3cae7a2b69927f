import { createHash, generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import { exportJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { b64url, signToken } from "../support/jwt.js";
import { collector, text } from "../support/nats.js";

const PORTAL_TOKEN = "portal-0123456789-secret";
const AGENT_TOKEN = "agent-plain-token-abcdef";
const SECRET = "an-hmac-secret-that-is-long-enough-0123";
const sha = (t: string) => "sha256:" + createHash("sha256").update(t).digest("hex");
const deployRequest = JSON.stringify({
  deploymentId: "d-1",
  cluster: "dev",
  manifest: "app@1.2.3",
  requestedBy: "portal",
  requestedAt: "2026-11-24T20:00:00Z",
});

const AUTH = {
  mode: "required" as const,
  clients: [
    { name: "portal", token: sha(PORTAL_TOKEN), publish: { allow: ["deploy.request", "transfer.>"] }, subscribe: { allow: ["deployment.status"] } },
    { name: "agent", token: AGENT_TOKEN, publish: { allow: ["deployment.status", "cluster.*.nodeAdded"] }, subscribe: { allow: ["deploy.request"] } },
  ],
  jwt: { secret: SECRET, issuer: "https://id.example", audience: "natsgate" },
};

describe("auth - tokens, permissions, audit", () => {
  const f = useGateway({ auth: AUTH, audit: { subject: "audit.natsgate" } });
  const post = publishVia(() => f.gw);
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it("me - GET /v1/me names the caller and its rules as configured; no token is 401", async () => {
    const portal = await f.gw.fetch("/v1/me", { headers: bearer(PORTAL_TOKEN) });
    expect(portal.status).toBe(200);
    expect(await portal.json()).toEqual({
      name: "portal",
      kind: "token",
      admin: false,
      publish: { allow: ["deploy.request", "transfer.>"], deny: [] },
      subscribe: { allow: ["deployment.status"], deny: [] },
    });
    const exp = Math.floor(Date.now() / 1000) + 300;
    const jwt = await signToken(new TextEncoder().encode(SECRET), { issuer: "https://id.example", audience: "natsgate", subject: "dash", claims: { natsgate: { subscribe: { allow: ["deploy.>"], deny: ["deploy.secret"] } } } });
    const viaJwt = await (await f.gw.fetch("/v1/me", { headers: bearer(jwt) })).json();
    expect(viaJwt).toMatchObject({ name: "dash", kind: "jwt", admin: false, subscribe: { allow: ["deploy.>"], deny: ["deploy.secret"] } });
    expect(Math.abs(Date.parse(viaJwt.expiresAt) / 1000 - exp)).toBeLessThanOrEqual(1);
    // A rule with a stray space would deny nothing: such a claim is refused.
    const sloppy = await signToken(new TextEncoder().encode(SECRET), { issuer: "https://id.example", audience: "natsgate", claims: { natsgate: { publish: { allow: [">"], deny: ["secret.> x"] } } } });
    const refused = await f.gw.fetch("/v1/me", { headers: bearer(sloppy) });
    expect(refused.status).toBe(401);
    expect((await refused.json()).detail).toBe("invalid token: the natsgate claim is malformed");
    const none = await f.gw.fetch("/v1/me");
    expect(none.status).toBe(401);
    expect((await none.json()).detail).toBe("a bearer token is required");
  });

  it("auth - no token is 401 with WWW-Authenticate; probes and openapi need none", async () => {
    const res = await post("deploy.request", deployRequest);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="natsgate"');
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({
      type: "https://natsgate.dev/problems/unauthorized",
      title: "Unauthorized",
      status: 401,
      detail: "a bearer token is required",
    });
    expect((await f.gw.fetch("/healthz")).status).toBe(200);
    expect((await f.gw.fetch("/readyz")).status).toBe(200);
    expect((await f.gw.fetch("/openapi.json")).status).toBe(200);
    expect((await f.gw.fetch("/v1/schemas")).status).toBe(401);
    expect((await f.gw.fetch("/v1/schemas", { headers: bearer(AGENT_TOKEN) })).status).toBe(200);
  });

  it("auth - a wrong token is 401; the query parameter and cookie are not accepted on publish", async () => {
    expect((await post("deploy.request", deployRequest, bearer("nope"))).status).toBe(401);
    expect((await post("deploy.request", deployRequest, { authorization: `Basic ${PORTAL_TOKEN}` })).status).toBe(401);
    expect((await post(`deploy.request?access_token=${PORTAL_TOKEN}`, deployRequest)).status).toBe(401);
    expect((await post("deploy.request", deployRequest, { cookie: `natsgate_token=${PORTAL_TOKEN}` })).status).toBe(401);
  });

  it("auth - the portal may publish deploy.request (hashed token); the agent may not (403)", async () => {
    const sub = await collector(f.nc, "deploy.request");
    const ok = await post("deploy.request", deployRequest, bearer(PORTAL_TOKEN));
    expect(ok.status).toBe(202);
    expect(text((await sub.next(1))[0]!)).toBe(deployRequest);
    const denied = await post("deploy.request", deployRequest, bearer(AGENT_TOKEN));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({
      type: "https://natsgate.dev/problems/forbidden",
      title: "Forbidden",
      status: 403,
      detail: "client agent may not publish to deploy.request",
    });
    expect(sub.messages).toHaveLength(1);
    const agentOk = await post("cluster.dev.nodeAdded", JSON.stringify({ cluster: "dev", node: { name: "n1" }, addedAt: "2026-11-24T20:00:00Z" }), bearer(AGENT_TOKEN));
    expect(agentOk.status).toBe(202);
    sub.unsubscribe();
  });

  it("auth - each batch item and request/reply are checked the same way", async () => {
    const body = [
      JSON.stringify({ subject: "deployment.status", data: { deploymentId: "d-1", cluster: "dev", status: "pending", updatedAt: "2026-11-24T20:00:00Z" } }),
      JSON.stringify({ subject: "deploy.request", data: JSON.parse(deployRequest) }),
    ].join("\n");
    const res = await f.gw.fetch("/v1/publish", { method: "POST", body, headers: { "content-type": "application/x-ndjson", ...bearer(AGENT_TOKEN) } });
    expect((await res.json()).results.map((r: { status: number }) => r.status)).toEqual([202, 403]);
    const req = await f.gw.fetch("/v1/request/deploy.request", { method: "POST", body: deployRequest, headers: { "content-type": "application/json", ...bearer(AGENT_TOKEN) } });
    expect(req.status).toBe(403);
  });

  it("auth - JWT with a natsgate claim grants exactly its permissions", async () => {
    const key = new TextEncoder().encode(SECRET);
    const claims = { natsgate: { publish: { allow: ["transfer.>"], deny: ["transfer.secret"] } } };
    const token = await signToken(key, { issuer: "https://id.example", audience: "natsgate", subject: "ci-bot", claims });
    expect((await post("transfer.started", "{}", bearer(token))).status).toBe(202);
    expect((await post("transfer.secret", "{}", bearer(token))).status).toBe(403);
    expect((await post("deploy.request", deployRequest, bearer(token))).status).toBe(403);
    for (const alg of ["HS384", "HS512"]) {
      const t = await signToken(key, { alg, issuer: "https://id.example", audience: "natsgate", claims });
      expect((await post("transfer.x", "{}", bearer(t))).status).toBe(202);
    }
  });

  it("audit - one line per publish, denial and auth failure, without tokens or bodies", async () => {
    f.gw.audit.length = 0;
    const first = await post("transfer.audited", '{"secretBody":1}', { ...bearer(PORTAL_TOKEN), "Idempotency-Key": "idem-7", "X-Request-Id": "req-42", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
    expect(first.headers.get("x-request-id")).toBe("req-42");
    const second = await post("deploy.request", deployRequest, { ...bearer(AGENT_TOKEN), "X-Request-Id": "bad id with spaces" });
    // A request id that is not a sane token is replaced by one of ours.
    const made = second.headers.get("x-request-id")!;
    expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const third = await post("deploy.request", deployRequest, bearer("wrong-token-value"));
    expect(f.gw.audit.map((r) => [r.requestId, r.traceId])).toEqual([
      ["req-42", "4bf92f3577b34da6a3ce929d0e0e4736"],
      [made, undefined],
      [third.headers.get("x-request-id"), undefined],
    ]);
    expect(f.gw.audit.map(({ time: _t, remote: _r, requestId: _q, traceId: _x, ...rest }) => rest)).toEqual([
      { audit: true, action: "publish", outcome: "ok", status: 202, client: "portal", clientKind: "token", subject: "transfer.audited", msgId: "idem-7" },
      { audit: true, action: "publish", outcome: "denied", status: 403, client: "agent", clientKind: "token", subject: "deploy.request" },
      { audit: true, action: "auth", outcome: "unauthenticated", status: 401, detail: "unknown token" },
    ]);
    expect(f.gw.audit.every((r) => r.remote === "127.0.0.1")).toBe(true);
    const all = JSON.stringify(f.gw.audit);
    for (const secret of [PORTAL_TOKEN, AGENT_TOKEN, "wrong-token-value", "secretBody"]) expect(all).not.toContain(secret);
  });

  it("audit - each batch item gets its own record", async () => {
    f.gw.audit.length = 0;
    const body = [
      JSON.stringify({ subject: "transfer.b1", data: {}, headers: { "Idempotency-Key": "k-b1", Traceparent: "00-11111111111111111111111111111111-00f067aa0ba902b7-01" } }),
      JSON.stringify({ subject: "deploy.forbidden", data: {} }),
      "not json",
    ].join("\n");
    const res = await f.gw.fetch("/v1/publish", { method: "POST", body, headers: { "content-type": "application/x-ndjson", ...bearer(PORTAL_TOKEN), "x-request-id": "batch-9", traceparent: "00-22222222222222222222222222222222-00f067aa0ba902b7-01" } });
    expect(res.headers.get("x-request-id")).toBe("batch-9");
    expect(f.gw.audit.map((r) => r.requestId)).toEqual(["batch-9", "batch-9", "batch-9"]);
    // An item with trace context of its own is recorded in its trace; the others in the request's.
    expect(f.gw.audit.map((r) => r.traceId)).toEqual(["11111111111111111111111111111111", "22222222222222222222222222222222", "22222222222222222222222222222222"]);
    const { time, ...first } = f.gw.audit[0]!;
    expect(new Date(time as string).toISOString()).toBe(time);
    expect(first).toEqual({
      audit: true,
      action: "publish",
      outcome: "ok",
      status: 202,
      client: "portal",
      clientKind: "token",
      remote: "127.0.0.1",
      requestId: "batch-9",
      subject: "transfer.b1",
      msgId: "k-b1",
      traceId: "11111111111111111111111111111111",
    });
    expect(f.gw.audit.map(({ action, outcome, status, client, subject, msgId }) => ({ action, outcome, status, client, subject, msgId }))).toEqual([
      { action: "publish", outcome: "ok", status: 202, client: "portal", subject: "transfer.b1", msgId: "k-b1" },
      { action: "publish", outcome: "denied", status: 403, client: "portal", subject: "deploy.forbidden", msgId: undefined },
      { action: "publish", outcome: "failed", status: 400, client: "portal", subject: undefined, msgId: undefined },
    ]);
  });

  it("audit - records are also published to audit.subject", async () => {
    const sub = await collector(f.nc, "audit.natsgate");
    await post("transfer.copied", "{}", bearer(PORTAL_TOKEN));
    // Records of earlier tests may still be on their way; wait for this one.
    const copied = () => sub.messages.map((m) => JSON.parse(text(m))).find((r) => r.subject === "transfer.copied");
    let found;
    for (let n = 1; !(found = copied()); n++) await sub.next(n);
    expect(found).toMatchObject({ audit: true, action: "publish", outcome: "ok", client: "portal", subject: "transfer.copied", status: 202 });
    sub.unsubscribe();
  });
});

describe("auth - JWT keys: public key PEM and JWKS URL", () => {
  const f = useGateway();
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ed = generateKeyPairSync("ed25519");
  const ed2 = generateKeyPairSync("ed25519");
  let jwks: { keys: object[] } = { keys: [] };
  let jwksServer: Server;
  let byPem: TestGateway;
  let byJwks: TestGateway;
  let jwksFetches = 0;

  beforeAll(async () => {
    jwks = { keys: [{ ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256" }, { ...(await exportJWK(ed.publicKey)), kid: "ed-1", alg: "EdDSA" }] };
    jwksServer = createServer((_req, res) => {
      jwksFetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
    const { port } = jwksServer.address() as { port: number };
    const pem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
    byPem = await startGateway(f.server.url, { auth: { mode: "required", jwt: { publicKey: pem, audience: "natsgate" } } });
    byJwks = await startGateway(f.server.url, { auth: { mode: "required", jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, jwksCooldownMs: 0 } } });
  });

  afterAll(async () => {
    await byPem?.close();
    await byJwks?.close();
    await new Promise((r) => jwksServer?.close(r));
  });

  const claims = { natsgate: { publish: { allow: [">"] } } };
  const publish = (gw: TestGateway, token: string) =>
    gw.fetch("/v1/publish/jwt.test", { method: "POST", body: "{}", headers: { "content-type": "application/json", authorization: `Bearer ${token}` } });

  it("jwt - RS256 verifies with a PEM public key; an HS256 token signed with that PEM is refused (algorithm confusion)", async () => {
    expect((await publish(byPem, await signToken(rsa.privateKey, { alg: "RS256", audience: "natsgate", claims }))).status).toBe(202);
    const pem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
    const confused = await signToken(new TextEncoder().encode(pem), { alg: "HS256", audience: "natsgate", claims });
    const res = await publish(byPem, confused);
    expect(res.status).toBe(401);
    expect((await res.json()).detail).toBe("invalid token: algorithm not allowed");
  });

  it("jwt - ES256 and EdDSA verify through the JWKS; an unknown kid refetches the set (key rotation)", async () => {
    expect((await publish(byJwks, await signToken(ec.privateKey, { alg: "ES256", kid: "ec-1", claims }))).status).toBe(202);
    expect((await publish(byJwks, await signToken(ed.privateKey, { alg: "EdDSA", kid: "ed-1", claims }))).status).toBe(202);
    const before = jwksFetches;
    jwks = { keys: [...jwks.keys, { ...(await exportJWK(ed2.publicKey)), kid: "ed-2", alg: "EdDSA" }] };
    expect((await publish(byJwks, await signToken(ed2.privateKey, { alg: "EdDSA", kid: "ed-2", claims }))).status).toBe(202);
    expect(jwksFetches).toBe(before + 1);
  });

  it("jwt - alg none, tampered payloads and wrong keys are refused", async () => {
    const good = await signToken(ed.privateKey, { alg: "EdDSA", kid: "ed-1", claims: { natsgate: { publish: { allow: ["jwt.x"] } } } });
    const [h, , s] = good.split(".");
    const tampered = `${h}.${b64url({ sub: "tester", exp: Math.floor(Date.now() / 1000) + 300, natsgate: { publish: { allow: [">"] } } })}.${s}`;
    const none = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "x", exp: Math.floor(Date.now() / 1000) + 300, natsgate: { publish: { allow: [">"] } } })}.`;
    const wrongKey = await signToken(ed2.privateKey, { alg: "EdDSA", kid: "ed-1", claims });
    for (const t of [tampered, none, wrongKey]) expect((await publish(byJwks, t)).status).toBe(401);
  });
});
