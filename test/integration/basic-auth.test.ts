/**
 * HTTP Basic beside bearer tokens (issue 16): real HTTP clients (curl -u and
 * fetch), every route that takes a token, the challenges, rate limits and the
 * audit trail, against a real gateway and nats-server.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../../src/security/passwords.js";
import { useGateway } from "../support/fixture.js";
import { collector, text } from "../support/nats.js";
import { rawRequest } from "../support/raw-http.js";
import { rawSse } from "../support/sse.js";
import { wsClient } from "../support/ws.js";

const run = promisify(execFile);
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}` });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = { "content-type": "application/json" };
const TOKEN = "both-token-0123456789abcdef";
const PROBE_PASSWORD = "s3cret pass:with colon";
const UNICODE_USER = "jürgen";
const UNICODE_PASSWORD = "pässwörd ✓ 🙂 日本";
const OPS_PASSWORD = "ops-password";
const BOTH_PASSWORD = "both-password";
const CHALLENGE = 'Bearer realm="natsgate", Basic realm="natsgate", charset="UTF-8"';

// Hashed once for the file; the default cost, as `npm run hash-password` prints them.
const [probeHash, unicodeHash, opsHash, bothHash] = await Promise.all([PROBE_PASSWORD, UNICODE_PASSWORD, OPS_PASSWORD, BOTH_PASSWORD].map((p) => hashPassword(p)));
const hashes = { probe: probeHash, unicode: unicodeHash, ops: opsHash, both: bothHash };
const config = () => ({
  auth: {
    mode: "required" as const,
    clients: [
      { name: "probe", user: "probe", password: hashes.probe, publish: { allow: ["basic.>"] }, subscribe: { allow: ["basic.>"] } },
      { name: "unicode", user: UNICODE_USER, password: hashes.unicode, publish: { allow: ["basic.unicode"] } },
      { name: "ops", user: "ops", password: hashes.ops, admin: true },
      { name: "both", token: "sha256:" + createHash("sha256").update(TOKEN).digest("hex"), user: "both", password: hashes.both, publish: { allow: ["basic.both"] } },
    ],
  },
  rateLimit: { perSecond: 1000, burst: 1000 },
});

describe("auth - HTTP Basic", () => {
  const f = useGateway(config());

  it("curl -u publishes with the client's permissions; the audit names it a password client without the password", async () => {
    const sub = await collector(f.nc, "basic.>");
    f.gw.audit.length = 0;
    const { stdout } = await run("curl", ["-sS", "-u", `probe:${PROBE_PASSWORD}`, "-H", "content-type: application/json", "--data-binary", '{"via":"curl"}', "-w", "\n%{http_code}", `${f.gw.url}/v1/publish/basic.curl`]);
    expect(stdout).toBe('{"subject":"basic.curl"}\n202');
    const [msg] = await sub.next(1);
    expect([msg!.subject, text(msg!)]).toEqual(["basic.curl", '{"via":"curl"}']);
    const denied = await f.gw.fetch("/v1/publish/other.subject", { method: "POST", headers: { ...json, ...basic("probe", PROBE_PASSWORD) }, body: "{}" });
    expect(denied.status).toBe(403);
    expect(f.gw.audit.map(({ action, outcome, status, client, clientKind, subject }) => ({ action, outcome, status, client, clientKind, subject }))).toEqual([
      { action: "publish", outcome: "ok", status: 202, client: "probe", clientKind: "password", subject: "basic.curl" },
      { action: "publish", outcome: "denied", status: 403, client: "probe", clientKind: "password", subject: "other.subject" },
    ]);
    expect(JSON.stringify(f.gw.audit)).not.toContain("s3cret");
    sub.unsubscribe();
  });

  it("fetch with a non-ASCII user and password (UTF-8, RFC 7617) publishes; /v1/me names the kind", async () => {
    const res = await f.gw.fetch("/v1/publish/basic.unicode", { method: "POST", headers: { ...json, ...basic(UNICODE_USER, UNICODE_PASSWORD) }, body: "{}" });
    expect(res.status).toBe(202);
    const me = await f.gw.fetch("/v1/me", { headers: basic(UNICODE_USER, UNICODE_PASSWORD) });
    expect(await me.json()).toMatchObject({ name: "unicode", kind: "password", admin: false });
    // The same password in Latin-1 bytes is another password.
    const latin1 = await f.gw.fetch("/v1/me", { headers: { authorization: `Basic ${Buffer.from(`probe:${PROBE_PASSWORD}é`, "latin1").toString("base64")}` } });
    expect(latin1.status).toBe(401);
  });

  it("a wrong password, an unknown user and a malformed header are 401 with both challenges, audited without the secret", async () => {
    f.gw.audit.length = 0;
    const cases: [Record<string, string>, string][] = [
      [basic("probe", "guessed-pw-1"), "unknown user or wrong password"],
      [basic("nobody", PROBE_PASSWORD), "unknown user or wrong password"],
      [{ authorization: "Basic !!!not-base64" }, "malformed credentials"],
      [{ authorization: `Basic ${Buffer.from("no-colon-here").toString("base64")}` }, "malformed credentials"],
      [{}, "credentials are required (a bearer token, or a user and password)"],
    ];
    for (const [headers, detail] of cases) {
      const res = await f.gw.fetch("/v1/publish/basic.x", { method: "POST", headers: { ...json, ...headers }, body: "{}" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(CHALLENGE);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect((await res.json()).detail).toBe(detail);
    }
    expect(f.gw.audit.map((r) => [r.action, r.outcome, r.status, r.detail])).toEqual(cases.map(([, detail]) => ["auth", "unauthenticated", 401, detail]));
    expect(JSON.stringify(f.gw.audit)).not.toMatch(/guessed-pw|s3cret|no-colon|bm8tY29sb24/);
  });

  it("batch, request, SSE, the WebSocket upgrade and the admin API take Basic; streams refuse a password in the query", async () => {
    const probe = basic("probe", PROBE_PASSWORD);
    const batch = await f.gw.fetch("/v1/publish", { method: "POST", headers: { "content-type": "application/x-ndjson", ...probe }, body: '{"subject":"basic.b","data":1}\n{"subject":"nope","data":2}\n' });
    expect((await batch.json()).results.map((r: { status: number }) => r.status)).toEqual([202, 403]);

    const responder = f.nc.subscribe("basic.echo", { callback: (_e, m) => void m.respond(m.data) });
    await f.nc.flush();
    const reply = await f.gw.fetch("/v1/request/basic.echo", { method: "POST", headers: { ...json, ...probe }, body: '{"ping":1}' });
    expect([reply.status, await reply.text()]).toEqual([200, '{"ping":1}']);
    responder.unsubscribe();

    const sse = await rawSse(`${f.gw.url}/v1/subscribe?subject=basic.sse`, { headers: probe });
    expect(sse.res.status).toBe(200);
    await sse.until((t) => t.includes("retry:"));
    await f.gw.fetch("/v1/publish/basic.sse", { method: "POST", headers: { ...json, ...probe }, body: '{"n":1}' });
    await sse.until((t) => t.includes('"subject":"basic.sse"'));
    sse.close();
    const inQuery = await f.gw.fetch(`/v1/subscribe?subject=basic.sse&access_token=${encodeURIComponent(`probe:${PROBE_PASSWORD}`)}`);
    expect(inQuery.status).toBe(401);
    expect((await inQuery.json()).detail).toBe("unknown token");

    const ws = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`, probe);
    ws.send({ op: "sub", sid: "1", subject: "basic.ws" });
    ws.send({ op: "ping" });
    await ws.next((fr) => fr.op === "pong");
    await f.nc.flush();
    f.nc.publish("basic.ws", '{"n":2}');
    expect(await ws.next((fr) => fr.op === "msg")).toMatchObject({ sid: "1", subject: "basic.ws", data: { n: 2 } });
    ws.close();
    await expect(wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`, basic("probe", "nope"))).rejects.toThrow("upgrade refused: 401");

    const admin = await f.gw.fetch("/v1/connections", { headers: basic("ops", OPS_PASSWORD) });
    expect(admin.status).toBe(200);
    const notAdmin = await f.gw.fetch("/v1/connections", { headers: probe });
    expect(notAdmin.status).toBe(403);
  });

  it("user names compare in Unicode NFC: a decomposed ü is the same user", async () => {
    const res = await f.gw.fetch("/v1/publish/basic.unicode", { method: "POST", headers: { ...json, ...basic("ju\u0308rgen", UNICODE_PASSWORD) }, body: "{}" });
    expect(res.status).toBe(202);
  });

  it("a browser on another site's page cannot use a password the browser remembers (CSRF); the gateway's own pages can", async () => {
    const probe = basic("probe", PROBE_PASSWORD);
    const post = (headers: Record<string, string>) => f.gw.fetch("/v1/publish/basic.site", { method: "POST", headers: { "content-type": "text/plain", ...probe, ...headers }, body: "x" });
    const refused = "a password is not taken from another site's page; sign in from the gateway's own origin or a listed CORS origin";
    const crossSite: Record<string, string>[] = [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "https://evil.example" }, { origin: "null" }];
    for (const headers of crossSite) {
      const res = await post(headers);
      // Bearer only: a Basic challenge would have the browser prompt on the other site's behalf.
      expect([res.status, res.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="natsgate"']);
      expect((await res.json()).detail).toBe(refused);
    }
    const host = new URL(f.gw.url).host;
    const ownOrNone: Record<string, string>[] = [{ "sec-fetch-site": "same-origin", origin: `http://${host}` }, { "sec-fetch-site": "none" }, { origin: `http://${host}` }, {}];
    for (const headers of ownOrNone) {
      expect((await post(headers)).status).toBe(202);
    }
    // The Host header as a client may write it (fetch cannot: it sets its own): another case, a trailing dot.
    const [name, port] = host.split(":");
    for (const [origin, hostHeader, status] of [
      [`http://${host}`, `${name!.toUpperCase()}.:${port}`, 202],
      [`http://${name}.:${port}`, host, 202],
      [`http://${name}`, host, 401],
    ] as const) {
      const res = await rawRequest(f.gw.url, {
        path: "/v1/publish/basic.site",
        host: hostHeader,
        head: [`authorization: ${probe.authorization}`, `origin: ${origin}`, "content-type: text/plain", "content-length: 1"],
        body: "x",
      });
      expect([origin, hostHeader, res!.status]).toEqual([origin, hostHeader, status]);
    }
  });

  it("a browser asking without credentials is offered Bearer only (a Basic challenge makes it prompt); other clients both", async () => {
    const browser = await f.gw.fetch("/v1/me", { headers: { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" } });
    expect([browser.status, browser.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="natsgate"']);
    // A browser without Fetch Metadata (Safari before 16.4) is known by its user agent.
    const oldSafari = await f.gw.fetch("/v1/me", { headers: { "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/15.6 Safari/605.1.15" } });
    expect([oldSafari.status, oldSafari.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="natsgate"']);
    const other = await f.gw.fetch("/v1/me", { headers: { "user-agent": "curl/8.5.0" } });
    expect(other.headers.get("www-authenticate")).toBe(CHALLENGE);
    // A browser that sent a password is told the Basic realm it failed.
    const wrong = await f.gw.fetch("/v1/me", { headers: { "sec-fetch-site": "same-origin", ...basic("probe", "nope") } });
    expect(wrong.headers.get("www-authenticate")).toBe(CHALLENGE);
  });

  it("a client with a token and a password signs in either way, as the same client with its own kind", async () => {
    const viaToken = await (await f.gw.fetch("/v1/me", { headers: bearer(TOKEN) })).json();
    const viaPassword = await (await f.gw.fetch("/v1/me", { headers: basic("both", BOTH_PASSWORD) })).json();
    expect([viaToken.name, viaToken.kind, viaPassword.name, viaPassword.kind]).toEqual(["both", "token", "both", "password"]);
    expect((await f.gw.fetch("/v1/me", { headers: basic("both", TOKEN) })).status).toBe(401);
  });
});

describe("auth - failed passwords spend the address's budget", () => {
  // Behind one trusted proxy, so each test names its address in X-Forwarded-For.
  const f = useGateway({ ...config(), server: { trustProxy: true }, rateLimit: { perSecond: 0.01, burst: 3 } });
  const from = (address: string, headers: Record<string, string>) => ({ ...headers, "x-forwarded-for": address });
  const publish = (headers: Record<string, string>) => f.gw.fetch("/v1/publish/basic.limited", { method: "POST", headers: { ...json, ...headers }, body: "{}" });

  it("once spent, every password from that address is refused with 429 before it is hashed, a right one and a remembered one too", async () => {
    const guesser = "198.51.100.9";
    // ops signed in lately from its own address, and the guesser from its own; both remembered for a minute.
    expect((await f.gw.fetch("/v1/me", { headers: from("203.0.113.5", basic("ops", OPS_PASSWORD)) })).status).toBe(200);
    expect((await f.gw.fetch("/v1/me", { headers: from(guesser, basic("both", BOTH_PASSWORD)) })).status).toBe(200);
    f.gw.audit.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await publish(from(guesser, basic("probe", `guess-${i}`)))).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const right = await publish(from(guesser, basic("probe", PROBE_PASSWORD)));
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await right.json()).detail).toBe("too many failed sign-ins from this address; the password was not checked");
    // No oracle: ops' right password, verified lately but from elsewhere, gets the same 429 as a wrong one.
    const opsHere = await f.gw.fetch("/v1/me", { headers: from(guesser, basic("ops", OPS_PASSWORD)) });
    const wrongHere = await f.gw.fetch("/v1/me", { headers: from(guesser, basic("ops", "not-it")) });
    expect([opsHere.status, await opsHere.text()]).toEqual([wrongHere.status, await wrongHere.text()]);
    expect(opsHere.status).toBe(429);
    // Nor for one a client behind the same address (a NAT) signed in with lately, though it needs no hash.
    const remembered = await f.gw.fetch("/v1/me", { headers: from(guesser, basic("both", BOTH_PASSWORD)) });
    expect([remembered.status, await remembered.text()]).toEqual([429, await (await f.gw.fetch("/v1/me", { headers: from(guesser, basic("both", "nope")) })).text()]);
    expect(f.gw.audit.map((r) => [r.outcome, r.status, r.remote])).toEqual([
      ...Array(3).fill(["unauthenticated", 401, guesser]),
      ...Array(6).fill(["limited", 429, guesser]),
    ]);
    // A bearer token (whose failures have the request budget) still passes there; ops from its own address too.
    expect((await f.gw.fetch("/v1/me", { headers: from(guesser, bearer(TOKEN)) })).status).toBe(200);
    expect((await f.gw.fetch("/v1/me", { headers: from("203.0.113.5", basic("ops", OPS_PASSWORD)) })).status).toBe(200);
  });

  it("an IPv6 /64 is one address: guesses from its other addresses meet the same spent budget", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await publish(from(`2001:db8:7:7::${i + 1}`, basic("probe", `v6-guess-${i}`)))).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await publish(from("2001:db8:7:7:ffff:1:2:3", basic("probe", "v6-other")))).status).toBe(429);
    // The next /64 is another address.
    expect((await publish(from("2001:db8:7:8::1", basic("probe", PROBE_PASSWORD)))).status).toBe(202);
  });
});

describe("auth - concurrent guesses and shared budgets", () => {
  const f = useGateway({ ...config(), rateLimit: { perSecond: 0.01, burst: 2 } });

  it("guesses sent at once: two are hashed (the address's budget and cap), the rest 429 unhashed; later ones meet the spent budget", async () => {
    f.gw.audit.length = 0;
    const at = await Promise.all(Array.from({ length: 12 }, (_, i) => f.gw.fetch("/v1/me", { headers: basic("probe", `guess-${i}`) })));
    const statuses = at.map((r) => r.status).sort();
    expect(statuses).toEqual([401, 401, ...Array(10).fill(429)]);
    const details = await Promise.all(at.filter((r) => r.status === 429).map(async (r) => (await r.json()).detail));
    // The two in flight took the whole budget (burst 2 here), so the rest meet it spent before the in-flight cap.
    expect(new Set(details)).toEqual(new Set(["too many failed sign-ins from this address; the password was not checked"]));
    expect(f.gw.audit.filter((r) => r.outcome === "unauthenticated")).toHaveLength(2);
    const later = await f.gw.fetch("/v1/me", { headers: basic("probe", "guess-later") });
    expect([later.status, (await later.json()).detail]).toEqual([429, "too many failed sign-ins from this address; the password was not checked"]);
  });
});

describe("auth - a client with a token and a password", () => {
  const f = useGateway({ ...config(), rateLimit: { perSecond: 0.01, burst: 2 } });

  it("is one client for its rate limit, whichever it sends", async () => {
    expect((await f.gw.fetch("/v1/me", { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await f.gw.fetch("/v1/me", { headers: basic("both", BOTH_PASSWORD) })).status).toBe(200);
    const third = await f.gw.fetch("/v1/me", { headers: basic("both", BOTH_PASSWORD) });
    expect(third.status).toBe(429);
    expect((await f.gw.fetch("/v1/me", { headers: bearer(TOKEN) })).status).toBe(429);
  });
});
