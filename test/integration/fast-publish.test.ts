/**
 * The publish fast path (`src/node/fast-publish.ts`) against the Hono route it
 * stands in for: every case goes over a bare socket to a listener with the fast
 * path and to one without, on the same gateway, and both must answer alike —
 * status, headers, body, the audit record and the message NATS received.
 * `app.request()` never reaches the fast path, so these are socket-level.
 */
import type { IncomingMessage } from "node:http";
import type { Msg, Subscription } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { rawRequest, type RawRequest, type RawResponse } from "../support/raw-http.js";
import { until } from "../support/until.js";
import { transferCompleted } from "../fixtures/events.js";
import { hashPassword } from "../../src/security/passwords.js";

type Path = "hono" | "fast";
const token = (path: Path, client: "full" | "narrow") => `${path}-${client}-token-0123456789abcdef`;
const client = (path: Path, kind: "full" | "narrow", allow: string[]) => ({ name: `${path}-${kind}`, token: token(path, kind), publish: { allow } });
const PASSWORD = "pässword: with colon";
const passwordHash = await hashPassword(PASSWORD, { cost: 1024 });
const passwordClient = (path: Path) => ({ name: `${path}-user`, user: `${path}-user`, password: passwordHash, publish: { allow: ["orders.>"] } });

const f = useGateway({
  auth: {
    mode: "required",
    clients: (["hono", "fast"] as const).flatMap((p) => [client(p, "full", [">"]), client(p, "narrow", ["orders.>"]), passwordClient(p)]),
  },
  // Each path's clients have buckets of their own, so both see the same RateLimit-Remaining.
  rateLimit: { perSecond: 1_000, burst: 100_000 },
  server: { maxBodyBytes: 1_024, trustProxy: 1 },
  jetstream: { streams: [{ name: "FASTPATH", subjects: ["transfer.>", "stored.>"], duplicateWindow: "1m" }] },
});

const urls = {} as Record<Path, string>;
const taken: IncomingMessage[] = [];
let seen: Msg[] = [];
let sub: Subscription;

beforeAll(async () => {
  urls.hono = await f.gw.listenAgain({ fastPublish: false });
  urls.fast = await f.gw.listenAgain({ fastPublish: true, onFastPublish: (req) => taken.push(req) });
  sub = f.nc.subscribe(">", { callback: (_err, msg) => void seen.push(msg) });
  await f.nc.flush();
});
afterAll(() => sub?.unsubscribe());

/** One request as a case describes it, for the given path's clients. */
interface Case {
  name: string;
  /** The status the Hono route gives: the cases must test what they say. */
  status: number;
  path?: string;
  head: (p: Path) => string[];
  body?: string | Buffer;
  /** Messages core subscribers get: by default one for a success, none for a refusal. */
  delivered?: number;
  host?: string;
  /** True when the fast path is meant to leave the request to Hono. */
  fallsBack?: boolean;
}

const json = "Content-Type: application/json";
const auth = (p: Path, kind: "full" | "narrow" = "full") => `Authorization: Bearer ${token(p, kind)}`;
const basic = (p: Path, password = PASSWORD) => `Authorization: Basic ${Buffer.from(`${p}-user:${password}`, "utf8").toString("base64")}`;
const rid = (name: string) => `X-Request-Id: case-${name.replace(/[^A-Za-z0-9]+/g, "-")}`;

const cases: Case[] = [
  {
    name: "core publish with trace context, NATS headers and an idempotency key",
    status: 202,
    path: "/v1/publish/orders.created",
    head: (p) => [auth(p), json, "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate: vendor=abc", "baggage: tenant=acme", "NatsH-X-Tenant: acme", "Idempotency-Key: key-1", "X-Not-Forwarded: nope"],
    body: '{"orderId": "o-1",  "total": 12.5}',
  },
  { name: "a stream-captured subject with its schema", status: 201, path: "/v1/publish/transfer.completed", head: (p) => [auth(p), json], body: JSON.stringify(transferCompleted) },
  { name: "a stream subject with an idempotency key", status: 201, path: "/v1/publish/stored.one", head: (p) => [auth(p), json, `Idempotency-Key: once-${p}-1`], body: "{}" },
  { name: "repeated NatsH headers and Content-Type", status: 202, path: "/v1/publish/orders.dup", head: (p) => [auth(p), "Content-Type: text/plain", "Content-Type: text/csv", "NatsH-X-A: 1", "natsh-x-a: 2", "NATSH-X-B: b"], body: "a,b" },
  { name: "odd header case and spacing", status: 202, path: "/v1/publish/orders.spacing", head: (p) => [auth(p), "content-TYPE:    application/json   ", "IDEMPOTENCY-KEY:\tk-2 ", "NatsH-x-lower:  v "], body: "[1,2]" },
  { name: "a raw body without a content type", status: 202, path: "/v1/publish/orders.raw", head: (p) => [auth(p)], body: Buffer.from([0, 1, 2, 255]) },
  { name: "an empty JSON body", status: 400, path: "/v1/publish/orders.empty", head: (p) => [auth(p), json], body: "" },
  { name: "malformed JSON", status: 400, path: "/v1/publish/orders.bad", head: (p) => [auth(p), json], body: '{"a":' },
  { name: "JSON nested too deep", status: 400, path: "/v1/publish/orders.deep", head: (p) => [auth(p), json], body: "[".repeat(70) + "]".repeat(70) },
  { name: "invalid UTF-8 in JSON", status: 400, path: "/v1/publish/orders.utf8", head: (p) => [auth(p), json], body: Buffer.from([0x22, 0xc3, 0x28, 0x22]) },
  { name: "a schema violation", status: 422, path: "/v1/publish/transfer.completed", head: (p) => [auth(p), json], body: JSON.stringify({ ...transferCompleted, sizeBytes: "big" }) },
  { name: "a body over the limit, declared", status: 413, path: "/v1/publish/orders.big", head: (p) => [auth(p), json], body: JSON.stringify({ pad: "x".repeat(2_000) }) },
  { name: "no token", status: 401, path: "/v1/publish/orders.anon", head: () => [json], body: "{}" },
  { name: "a wrong token", status: 401, path: "/v1/publish/orders.wrong", head: () => ["Authorization: Bearer not-a-client-token", json], body: "{}" },
  { name: "an unknown Basic user", status: 401, path: "/v1/publish/orders.basic", head: () => ["Authorization: Basic dXNlcjpwYXNz", json], body: "{}" },
  { name: "another auth scheme", status: 401, path: "/v1/publish/orders.digest", head: () => ['Authorization: Digest username="u"', json], body: "{}" },
  { name: "a user and password (HTTP Basic)", status: 202, path: "/v1/publish/orders.basic", head: (p) => [basic(p), json], body: "{}" },
  { name: "a wrong password", status: 401, path: "/v1/publish/orders.basic", head: (p) => [basic(p, "wrong"), json], body: "{}" },
  { name: "a malformed Basic header", status: 401, path: "/v1/publish/orders.basic", head: () => ["Authorization: Basic ###", json], body: "{}" },
  { name: "Basic outside the client's permissions", status: 403, path: "/v1/publish/deploy.request", head: (p) => [basic(p), json], body: "{}" },
  { name: "a subject outside the client's permissions", status: 403, path: "/v1/publish/deploy.request", head: (p) => [auth(p, "narrow"), json], body: "{}" },
  { name: "a reserved subject", status: 403, path: "/v1/publish/$NATSGATE.x", head: (p) => [auth(p), json], body: "{}" },
  { name: "a wildcard subject", status: 400, path: "/v1/publish/orders.*", head: (p) => [auth(p), json], body: "{}" },
  { name: "an empty subject token", status: 400, path: "/v1/publish/orders..x", head: (p) => [auth(p), json], body: "{}" },
  { name: "a NATS control header", status: 400, path: "/v1/publish/orders.ctl", head: (p) => [auth(p), json, "NatsH-Nats-Rollup: all"], body: "{}" },
  { name: "a reserved idempotency key", status: 400, path: "/v1/publish/orders.hook", head: (p) => [auth(p), json, "Idempotency-Key: hook:1"], body: "{}" },
  { name: "a malformed Expect-Last-Sequence", status: 400, path: "/v1/publish/stored.exp", head: (p) => [auth(p), json, "Expect-Last-Sequence: -1"], body: "{}" },
  // Core subscribers get what JetStream refused: the expectation is the stream's, not the server's.
  { name: "an Expect-Stream that does not match", status: 409, delivered: 1, path: "/v1/publish/stored.exp", head: (p) => [auth(p), json, "Expect-Stream: OTHER"], body: "{}" },
  { name: "a binary-mode CloudEvent", status: 202, path: "/v1/publish/orders.ce", head: (p) => [auth(p), json, "ce-specversion: 1.0", "ce-id: e-1", "ce-source: /test", "ce-type: order.created"], body: "{}" },
  { name: "a binary-mode CloudEvent missing its id", status: 400, path: "/v1/publish/orders.ce", head: (p) => [auth(p), json, "ce-specversion: 1.0", "ce-source: /test", "ce-type: t"], body: "{}" },
  {
    name: "a structured CloudEvent",
    status: 202,
    path: "/v1/publish/orders.ces",
    head: (p) => [auth(p), "Content-Type: application/cloudevents+json"],
    body: JSON.stringify({ specversion: "1.0", id: "e-2", source: "/s", type: "t", datacontenttype: "application/json", data: { a: 1 } }),
  },
  { name: "a forwarded client address", status: 202, path: "/v1/publish/orders.xff", head: (p) => [auth(p), json, "X-Forwarded-For: 203.0.113.9, 198.51.100.7"], body: "{}" },
  { name: "an unusable request id", status: 202, path: "/v1/publish/orders.rid", head: (p) => [auth(p), json, "X-Request-Id: has spaces"], body: "{}" },
  // Left to Hono: these prove the fallback answers as the route does.
  { name: "a percent-escaped subject", status: 202, path: "/v1/publish/orders.%41", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a stray percent sign", status: 400, path: "/v1/publish/orders.%zz", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a query string", status: 202, path: "/v1/publish/orders.q?x=1", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a backslash in the path", status: 400, path: "/v1/publish/orders\\x", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a dot segment", status: 404, path: "/v1/publish/..", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a character URL parsing encodes", status: 202, path: "/v1/publish/orders.{x}", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a Host in upper case", status: 202, path: "/v1/publish/orders.host", host: "LOCALHOST", head: (p) => [auth(p), json], body: "{}", fallsBack: true },
  { name: "a chunked body", status: 202, path: "/v1/publish/orders.chunked", head: (p) => [auth(p), json, "Transfer-Encoding: chunked"], body: "2\r\n{}\r\n0\r\n\r\n", fallsBack: true },
];

/** What a client and NATS observed of one request, with what differs by design (dates, sequence numbers, client names) taken out. */
interface Observed {
  status: number;
  headers: Record<string, string[]>;
  body: unknown;
  nats: { subject: string; data: string; headers: [string, unknown[]][] }[];
  audit: Record<string, unknown>[];
}

let sentinel = 0;
async function observe(p: Path, c: Case): Promise<Observed & { res: RawResponse }> {
  seen = [];
  const auditBefore = f.gw.audit.length;
  const head = [...c.head(p)];
  if (!head.some((h) => /^x-request-id:/i.test(h))) head.push(rid(c.name));
  const req: RawRequest = { path: c.path ?? "/v1/publish/orders.x", head, host: c.host, body: c.body };
  if (!head.some((h) => /^transfer-encoding:/i.test(h))) req.head.push(`Content-Length: ${Buffer.byteLength(c.body ?? "")}`);
  const res = (await rawRequest(urls[p], req))!;
  // Whatever the gateway published reached this subscriber before the sentinel published after the reply.
  const mark = `sentinel.${++sentinel}`;
  f.nc.publish(mark);
  await until(() => seen.some((m) => m.subject === mark), 5_000, mark);
  // The Hono route audits before it replies; the fast path just after.
  await until(() => f.gw.audit.length > auditBefore || c.status === 401, 2_000, `audit of ${c.name}`).catch(() => {});
  await new Promise((r) => setImmediate(r));
  const neutral = (v: unknown): unknown => (typeof v === "string" ? v.replaceAll(`${p}-`, "<path>-") : v);
  const nats = seen
    .filter((m) => !m.subject.startsWith("_INBOX.") && !m.subject.startsWith("$") && m.subject !== mark)
    .map((m) => ({
      subject: m.subject,
      data: Buffer.from(m.data).toString("latin1"),
      headers: m.headers ? [...m.headers].map(([k, v]) => [k, v.map(neutral)] as [string, unknown[]]) : [],
    }));
  const { date, ...headers } = res.headers;
  expect(date).toHaveLength(1);
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // Kept as text.
  }
  if (typeof body === "object" && body !== null && "seq" in body) body = { ...body, seq: "<seq>" };
  const audit = f.gw.audit.slice(auditBefore).map((r) => {
    const { time: _time, ...rest } = r;
    const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, neutral(v)]));
    return "seq" in out ? { ...out, seq: "<seq>" } : out;
  });
  if (/^[0-9a-f-]{36}$/.test(headers["x-request-id"]?.[0] ?? "")) {
    headers["x-request-id"] = ["<uuid>"];
    for (const a of audit) a.requestId = "<uuid>";
  }
  return { status: res.status, headers, body: neutral(JSON.stringify(body)), nats, audit, res };
}

describe("publish fast path - the same answers as the Hono route", () => {
  for (const c of cases) {
    it(`fast path - ${c.name}: ${c.status}, alike both ways`, async () => {
      const before = taken.length;
      const { res: honoRes, ...hono } = await observe("hono", c);
      const { res: fastRes, ...fast } = await observe("fast", c);
      expect(hono.status).toBe(c.status);
      expect(taken.length - before).toBe(c.fallsBack ? 0 : 1);
      expect(fast).toEqual(hono);
      expect(hono.nats).toHaveLength(c.delivered ?? (c.status < 300 ? 1 : 0));
      if (c.status === 413) {
        expect(hono.headers.connection).toEqual(["close"]);
        await Promise.all([honoRes.closed, fastRes.closed]);
      }
    });
  }

  it("fast path - security, rate-limit and request-id headers are on its replies", async () => {
    const c = cases[0]!;
    const { headers } = await observe("fast", c);
    expect(headers).toMatchObject({
      "x-content-type-options": ["nosniff"],
      "x-frame-options": ["DENY"],
      "referrer-policy": ["no-referrer"],
      "ratelimit-limit": ["100000"],
      "x-request-id": [rid(c.name).slice("X-Request-Id: ".length)],
      "content-type": ["application/json"],
    });
    expect(Number(headers["ratelimit-remaining"]![0])).toBeLessThan(100_000);
  });

  it("fast path - a client gone mid-body is audited as an incomplete body (408) both ways, and nothing is published", async () => {
    for (const p of ["hono", "fast"] as const) {
      seen = [];
      const before = f.gw.audit.length;
      await rawRequest(urls[p], { path: "/v1/publish/orders.cut", head: [auth(p), json, "Content-Length: 100"], body: '{"a":"' + "x".repeat(90) + '"}', cutAfter: 10 });
      await until(() => f.gw.audit.slice(before).some((r) => r.subject === "orders.cut"), 5_000, `audit of the cut body (${p})`);
      expect(f.gw.audit.slice(before)).toMatchObject([{ action: "publish", outcome: "failed", status: 408, client: `${p}-full`, subject: "orders.cut" }]);
    }
    expect(seen.filter((m) => m.subject === "orders.cut")).toEqual([]);
  });
});
