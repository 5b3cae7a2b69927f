import type { Msg } from "@nats-io/transport-node";
import { beforeAll, describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { b64url, signToken } from "../support/jwt.js";

/**
 * An attacker allowed to publish only under `public.>` tries every trick we know
 * to publish elsewhere or get in without valid credentials. Every case must be
 * refused with the listed status, none with a 5xx, and nothing outside
 * `public.>` may reach NATS.
 */
const ATTACKER = "attacker-token-0123456789";
const SECRET = "escape-corpus-hmac-secret-0123456789";
const ISSUER = "https://id.example";
const AUDIENCE = "natsgate";
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const claims = { natsgate: { publish: { allow: ["public.>"] } } };

interface Case {
  name: string;
  path: string;
  headers?: Record<string, string>;
  status: number;
}

/** Subject tricks, sent with the attacker's valid token. */
const subjectCases: [string, string, number][] = [
  ["another client's subject", "deploy.request", 403],
  ["prefix without token", "public", 403],
  ["star wildcard", "public.*", 400],
  ["full wildcard", "public.>", 400],
  ["nested wildcard", "public.a.*", 400],
  ["bare >", ">", 400],
  ["bare *", "*", 400],
  ["empty token", "public..x", 400],
  ["trailing dot", "public.x.", 400],
  ["leading dot", ".public.x", 400],
  ["encoded dot to another subject", "deploy%2Erequest", 403],
  ["encoded star", "public.%2A", 400],
  ["encoded >", "public.%3E", 400],
  ["encoded space", "public.x%20deploy.request", 400],
  ["tab", "public.x%09y", 400],
  ["CRLF injection", "public.x%0D%0APUB%20deploy.request%200", 400],
  ["NUL", "public.x%00", 400],
  ["DEL", "public.x%7F", 400],
  ["line separator", "public.%E2%80%A8x", 400],
  ["no-break space", "public.%C2%A0x", 400],
  ["zero-width space", "public.%E2%80%8Bx", 400],
  ["BOM", "%EF%BB%BFpublic.x", 400],
  ["undecodable percent", "public.x%ZZ", 400],
  ["truncated percent", "public.x%4", 400],
  ["overlong UTF-8", "public.%C0%AE", 400],
  ["path traversal", "..%2Fdeploy.request", 400],
  ["case change", "PUBLIC.x", 403],
  ["too long", "public." + "x".repeat(300), 400],
  ["$SYS", "%24SYS.REQ.SERVER.PING", 403],
  ["$JS API", "$JS.API.STREAM.DELETE.EVENTS", 403],
  ["$KV", "$KV.config.x", 403],
  ["$O", "$O.store.x", 403],
  ["_INBOX", "_INBOX.steal.1", 403],
];

describe("escape corpus", () => {
  const f = useGateway({
    auth: { mode: "required", clients: [{ name: "attacker", token: ATTACKER, publish: { allow: ["public.>"] } }], jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } },
  });
  const seen: Msg[] = [];
  const cases: Case[] = [];

  beforeAll(async () => {
    f.nc.subscribe(">", { callback: (_e, m) => void seen.push(m) });
    await f.nc.flush();
    const sign = (o: Parameters<typeof signToken>[1] = {}) => signToken(key, { issuer: ISSUER, audience: AUDIENCE, claims, ...o });
    const valid = await sign();
    const [h, , s] = valid.split(".");
    const escalate = b64url({ sub: "attacker", iss: ISSUER, aud: AUDIENCE, exp: now() + 300, natsgate: { publish: { allow: [">"] } } });
    const tokenCases: [string, Record<string, string>, number, string?][] = [
      ["no token", {}, 401],
      ["empty bearer", { authorization: "Bearer " }, 401],
      ["bearer without token", { authorization: "Bearer" }, 401],
      ["basic scheme", { authorization: `Basic ${ATTACKER}` }, 401],
      ["token with suffix", bearer(ATTACKER + "x"), 401],
      ["token prefix", bearer(ATTACKER.slice(0, -1)), 401],
      ["two tokens", { authorization: `Bearer ${ATTACKER}, Bearer ${ATTACKER}` }, 401],
      ["oversized token", bearer("x".repeat(10_000)), 401],
      ["token in query on publish", {}, 401, `?access_token=${ATTACKER}`],
      ["token in cookie on publish", { cookie: `natsgate_token=${ATTACKER}` }, 401],
      ["JWT alg none", bearer(`${b64url({ alg: "none", typ: "JWT" })}.${escalate}.`), 401],
      ["JWT tampered claims", bearer(`${h}.${escalate}.${s}`), 401],
      ["JWT wrong secret", bearer(await signToken(new TextEncoder().encode("some-other-secret-0123456789abcdefgh"), { issuer: ISSUER, audience: AUDIENCE, claims })), 401],
      ["JWT expired", bearer(await sign({ expiresIn: -120 })), 401],
      ["JWT not yet valid", bearer(await sign({ notBefore: 600 })), 401],
      ["JWT wrong audience", bearer(await sign({ audience: "someone-else" })), 401],
      ["JWT wrong issuer", bearer(await sign({ issuer: "https://evil.example" })), 401],
      ["JWT without exp", bearer(await sign({ expiresIn: Infinity })), 401],
      ["JWT without sub", bearer(await sign({ subject: "" })), 401],
      ["JWT malformed natsgate claim", bearer(await sign({ claims: { natsgate: { publish: { allow: "public.>" } } } })), 401],
      ["JWT header claims RS256", bearer(`${b64url({ alg: "RS256" })}.${escalate}.${s}`), 401],
      ["JWT garbage parts", bearer("a.b.c"), 401],
      ["JWT valid but subject not allowed", bearer(valid), 403],
    ];
    for (const [name, path, status] of subjectCases) cases.push({ name, path: `/v1/publish/${path}`, headers: bearer(ATTACKER), status });
    for (const [name, headers, status, query] of tokenCases) {
      const target = status === 403 ? "deploy.request" : "public.ok";
      cases.push({ name, path: `/v1/publish/${target}${query ?? ""}`, headers, status });
    }
    cases.push({ name: "request/reply to another subject", path: "/v1/request/deploy.request", headers: bearer(ATTACKER), status: 403 });
    cases.push({ name: "request/reply to _INBOX", path: "/v1/request/_INBOX.x", headers: bearer(ATTACKER), status: 403 });
  });

  it("escape - every case is refused with its status and none with a 5xx", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(55);
    const results: [string, number][] = [];
    for (const c of cases) {
      const res = await f.gw.fetch(c.path, { method: "POST", body: "{}", headers: { "content-type": "application/json", ...c.headers } });
      await res.arrayBuffer();
      results.push([c.name, res.status]);
    }
    expect(results).toEqual(cases.map((c) => [c.name, c.status]));
  });

  it("escape - batch items get the same refusals", async () => {
    const items = [
      { subject: "deploy.request", data: {} },
      { subject: "public.>", data: {} },
      { subject: "$SYS.x", data: {} },
      { subject: "public.x\r\nPUB deploy.request 0", data: {} },
      { subject: "public.ok", data: {}, headers: { "NatsH-X\r\nY": "z" } },
      { subject: "public.ok", data: {} },
    ];
    const res = await f.gw.fetch("/v1/publish", { method: "POST", body: JSON.stringify(items), headers: { "content-type": "application/json", ...bearer(ATTACKER) } });
    expect((await res.json()).results.map((r: { status: number }) => r.status)).toEqual([403, 400, 403, 400, 400, 202]);
  });

  it("escape - nothing outside public.> reached NATS", async () => {
    await f.nc.flush();
    const leaked = seen.map((m) => m.subject).filter((s) => !s.startsWith("public.") && !s.startsWith("$JS.EVENT.ADVISORY."));
    expect(leaked).toEqual([]);
    expect(seen.some((m) => m.subject === "public.ok")).toBe(true);
  });
});
