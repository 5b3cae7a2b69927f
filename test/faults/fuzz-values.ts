/**
 * The fuzzer's building blocks: its gateway config and tokens, the printable
 * request spec, and fast-check arbitraries for subjects, encodings, auth,
 * headers and bodies (used by fuzz-requests.ts for each route).
 */
import { createHash } from "node:crypto";
import fc from "fast-check";

export const FUZZ_TOKEN = "fuzz-client-token-3f1a";
export const ADMIN_TOKEN = "fuzz-admin-token-9c2e";
export const SECRETS = {
  gh: "gh-secret-fuzz",
  sw: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  sl: "slack-secret-fuzz",
  hm: "hmac-secret-fuzz",
};
export const sha256hex = (s: string) => createHash("sha256").update(s).digest("hex");

/** The gateway configuration the fuzzer runs against: auth required, a hashed and a plain token. */
export const FUZZ_CONFIG = {
  auth: {
    mode: "required",
    clients: [
      {
        name: "fuzzer",
        token: `sha256:${sha256hex(FUZZ_TOKEN)}`,
        publish: { allow: ["fz.>", "svc.>", "transfer.>"], deny: ["fz.secret.>"] },
        subscribe: { allow: ["fz.>", "transfer.>", "fz.> workers"], deny: ["fz.secret.>"] },
      },
      { name: "admin", token: ADMIN_TOKEN, admin: true, publish: { allow: ["fz.>", "svc.>", "transfer.>"] }, subscribe: { allow: [">", "_INBOX.mine.>"] } },
    ],
  },
  jetstream: { streams: [{ name: "FZ", subjects: ["fz.js.>"], maxMsgs: 50_000 }, { name: "HOOKS", subjects: ["hooks.>"], maxMsgs: 50_000 }] },
  inbound: [
    { name: "gh", subject: "hooks.gh", verify: { type: "github", secret: SECRETS.gh } },
    { name: "sw", subject: "hooks.sw", verify: { type: "standard-webhooks", secret: SECRETS.sw } },
    { name: "sl", subject: "fz.hooks.sl", verify: { type: "slack", secret: SECRETS.sl } },
    { name: "hm", subject: "fz.hooks.hm", verify: { type: "hmac-sha256", secret: SECRETS.hm, header: "X-Signature" } },
  ],
};

/** Subjects where a responder answers requests (every subject a client may publish to, outside streams). */
export const RESPONDER_PATTERNS = ["fz.>", "svc.>", "transfer.>"];

/** A body, described (built by `bodyBytes`). */
export type BodySpec =
  | { kind: "none" }
  | { kind: "text"; text: string }
  | { kind: "bytes"; hex: string }
  | { kind: "deep"; depth: number; open: "[" | "{" | "mixed"; wrap?: "batch" | "cloudevent" }
  | { kind: "huge"; size: number; json: boolean }
  | { kind: "many"; count: number };

/** One fuzzed request. */
export interface Spec {
  route: string;
  mode: "http" | "sse" | "ws";
  method: string;
  /** Request target: path (already encoded, maybe oddly) and query. */
  target: string;
  headers: [string, string][];
  body: BodySpec;
  /** Sign the body for an inbound source at send time (`stale`: a timestamp 10 min old). */
  sign?: { source: "gh" | "sw" | "sl" | "hm"; id: string; stale: boolean };
  /** WebSocket frames (mode "ws"). */
  frames?: string[];
  chunked?: boolean;
  /** Omit the Host header, or send this one instead of the real one. */
  host?: string | null;
}

// ---- building blocks -------------------------------------------------------------------------

export const noCrLf = (s: string) => s.replace(/[\r\n]/g, "");
/** `arb` one time in `absent + 1`, else undefined. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, absent: number) => fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

export const oddToken = fc.oneof(
  fc.constantFrom("fz", "js", "a", "b", "svc", "echo", "secret", "transfer", "completed", "orders", "created", "$KV", "$JS", "API", "_INBOX", "$NATSGATE", "$SYS", "$MQTT", "*", ">", "", " ", "a b", "é", "😀", "\u0000", "\t", "%", "%2e", "..", "x".repeat(70)),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "grapheme", maxLength: 4 }),
  fc.string({ unit: "binary", maxLength: 4 }),
);

export const wordArb = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
/** Well-formed subjects a client may use (most requests should get past the door). */
export const validSubjectArb = fc.oneof(
  fc.constantFrom("fz.a", "fz.js.a", "fz.js.b.c", "svc.echo", "transfer.completed", "fz.hooks.x"),
  fc.tuple(fc.constantFrom("fz", "fz.js", "svc", "fz.js"), fc.array(wordArb, { minLength: 1, maxLength: 3 })).map(([p, ts]) => [p, ...ts].join(".")),
);

export const subjectArb = fc.oneof(
  { weight: 10, arbitrary: validSubjectArb },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      "fz.a", "fz.js.a", "fz.js.b.c", "fz.secret.x", "svc.echo", "transfer.completed", "orders.created", "hooks.gh",
      "$KV.natsgate_webhooks.x", "$JS.API.STREAM.DELETE.FZ", "$JS.API.STREAM.INFO.FZ", "_INBOX.x", "_INBOX.natsgate.x", "$NATSGATE.deadletter.x", "$SYS.REQ.SERVER.PING",
      "fz.*", "fz.>", ">", "*", "fz..a", ".fz", "fz.", "fz a", "fz.\u0000", "fz.\u007f", "x".repeat(300), "fz.\u00e9", "fz.%41",
    ),
  },
  { weight: 3, arbitrary: fc.array(oddToken, { minLength: 1, maxLength: 5 }).map((ts) => ts.join(".")) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("fz", "fz.js", "svc", "transfer"), fc.array(oddToken, { minLength: 1, maxLength: 3 })).map(([p, ts]) => [p, ...ts].join(".")) },
);

/** Subjects for requests: where a responder or a stream answers, or refused ones (never a 503 "no responders"). */
export const requestSubjectArb = fc.oneof(
  fc.constantFrom("svc.echo", "svc.a.b", "fz.a", "fz.js.a", "transfer.completed", "fz.secret.x", "orders.created", "$JS.API.INFO", "_INBOX.x", "fz.*", "fz..a", "x y"),
  fc.tuple(fc.constantFrom("svc", "fz"), fc.array(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), { minLength: 1, maxLength: 3 })).map(([p, ts]) => [p, ...ts].join(".")),
);

type Encoding = "component" | "raw" | "upper" | "lower" | "bad-percent" | "double" | "overlong" | "invalid-utf8" | "slash" | "dot-segment";
export const encodingArb = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Encoding>("component") },
  { weight: 2, arbitrary: fc.constant<Encoding>("raw") },
  { weight: 4, arbitrary: fc.constantFrom<Encoding>("upper", "lower", "bad-percent", "double", "overlong", "invalid-utf8", "slash", "dot-segment") },
);

export const pct = (b: number, lower = false) => "%" + (lower ? b.toString(16).padStart(2, "0") : b.toString(16).toUpperCase().padStart(2, "0"));
export const UNRESERVED = /[A-Za-z0-9._~-]/;

/** Encodes a path segment or query value; never emits CR, LF or a space-free guarantee is not given (raw may). */
export function encodePart(s: string, enc: Encoding): string {
  const bytes = Buffer.from(s, "utf8");
  const standard = () => [...bytes].map((b) => (b < 128 && UNRESERVED.test(String.fromCharCode(b)) ? String.fromCharCode(b) : pct(b))).join("");
  switch (enc) {
    case "component":
      return standard();
    case "raw":
      // The bytes as they are, except CR/LF (one request per connection) and space (the request line).
      return [...bytes].map((b) => (b === 13 || b === 10 || b === 32 ? pct(b) : String.fromCharCode(b))).join("");
    case "upper":
      return [...bytes].map((b) => pct(b)).join("");
    case "lower":
      return [...bytes].map((b) => pct(b, true)).join("");
    case "bad-percent":
      return standard() + ["%", "%4", "%zz", "%G1", "%%"][bytes.length % 5];
    case "double":
      return standard().replace(/%/g, "%25") + "%252e";
    case "overlong":
      return standard().replace(/\./g, "%C0%AE") + "%C0%AF";
    case "invalid-utf8":
      return standard() + "%FF%FE%80";
    case "slash":
      return standard().replace(/\./g, "%2F") + "/";
    case "dot-segment":
      return "../" + standard() + "/./";
  }
}

export const subjectPathArb = fc.tuple(subjectArb, encodingArb).map(([s, e]) => encodePart(s, e));
export const prefixArb = (canonical: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(canonical) },
    { weight: 1, arbitrary: fc.constantFrom(canonical.replace("/v1/", "/v1/%70").replace("%70p", "%70"), canonical.toUpperCase(), "/" + canonical, canonical + "/", canonical.replace("/v1/", "/v1/./"), canonical.replace("/v1/", "/v1/x/../")) },
  );

export const methodArb = (right: string) =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(right) }, { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO", "get", "M-SEARCH") });

export const tokenArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant(FUZZ_TOKEN) },
  { weight: 8, arbitrary: fc.constant(ADMIN_TOKEN) },
  { weight: 2, arbitrary: fc.constantFrom("", "garbage", "Bearer", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.", "a.b.c", "x".repeat(5_000), "%zz", FUZZ_TOKEN + " ", "é") },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map(noCrLf) },
);

export type AuthPlacement = "bearer" | "none" | "raw" | "query" | "cookie" | "bad-cookie";
export const authArb = fc.tuple(
  fc.oneof({ weight: 20, arbitrary: fc.constant<AuthPlacement>("bearer") }, { weight: 2, arbitrary: fc.constantFrom<AuthPlacement>("none", "raw", "query", "cookie", "bad-cookie") }),
  tokenArb,
);

export function authParts([placement, token]: [AuthPlacement, string]): { headers: [string, string][]; query: string[] } {
  switch (placement) {
    case "bearer":
      return { headers: [["Authorization", `Bearer ${token}`]], query: [] };
    case "raw":
      return { headers: [["Authorization", token]], query: [] };
    case "query":
      return { headers: [], query: [`access_token=${encodePart(token, "component")}`] };
    case "cookie":
      return { headers: [["Cookie", `natsgate_token=${encodePart(token, "component")}`]], query: [] };
    case "bad-cookie":
      return { headers: [["Cookie", `natsgate_token=${noCrLf(token)}%zz; natsgate_token=; x=%`]], query: [] };
    case "none":
      return { headers: [], query: [] };
  }
}

export const headerValueArb = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.constantFrom("", " ", "\u0000", "x".repeat(9_000), "é", "a\u0001b", "1", "-1", "99999999999999999999", "FZ", "true"),
).map(noCrLf);

export const anyContentTypeArb = fc.constantFrom(
  "application/json", "application/json; charset=utf-8", "application/x-ndjson", "application/cloudevents+json", "application/cloudevents-batch+json",
  "text/plain", "application/octet-stream", "multipart/form-data; boundary=x", "", "application/json; charset=latin1", "APPLICATION/JSON", "application/*", ";;", "application/json\u0000",
);

export const cursorArb = fc.oneof(
  fc.constantFrom("FZ:0", "FZ:1", "FZ:5", "FZ:-1", "FZ:1.5", "FZ:99999999999999999999", "FZ:", ":1", "FZ:1,HOOKS:2", "NOPE:1", "FZ:1,FZ:2", "a".repeat(2_000), "FZ:0x10", "FZ: 1"),
  fc.string({ maxLength: 20 }).map(noCrLf),
);

export const contentTypeArb = fc.oneof({ weight: 6, arbitrary: fc.constant("application/json") }, { weight: 3, arbitrary: anyContentTypeArb });

export const extraHeaderArb: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant("Content-Type"), anyContentTypeArb),
  fc.tuple(
    fc.constantFrom("X-Trace", "Nats-Rollup", "Nats-Msg-Id", "Nats-Expected-Stream", "Nats-Expected-Last-Sequence", "Nats-TTL", "nats-expected-last-msg-id", "Content-Type", "traceparent", "X".repeat(200), "é", "a.b", "Status").map((n) => `NatsH-${n}`),
    headerValueArb,
  ),
  fc.tuple(fc.constant("Idempotency-Key"), fc.oneof(fc.string({ maxLength: 20 }).map(noCrLf), fc.constantFrom("", "x".repeat(5_000), "dup-1", "dup-2", "é"))),
  fc.tuple(fc.constant("Last-Event-ID"), cursorArb),
  fc.tuple(fc.constant("X-Forwarded-For"), fc.constantFrom("1.2.3.4", "1.2.3.4, 10.0.0.1", "::1", "garbage", "", "999.1.1.1", ", , ,")),
  fc.tuple(fc.constant("Cookie"), fc.constantFrom("natsgate_token=%zz", "natsgate_token=", "a=b; natsgate_token=\"x\"", "=", ";;;")),
  fc.tuple(fc.constant("traceparent"), fc.constantFrom("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-00000000000000000000000000000000-0000000000000000-00", "ff-x-y-z", "", "00-" + "a".repeat(200))),
  fc.tuple(fc.constantFrom("tracestate", "baggage"), headerValueArb),
  fc.tuple(fc.constantFrom("Expect-Stream", "Expect-Last-Sequence"), fc.constantFrom("FZ", "HOOKS", "0", "1", "-1", "abc", "99999999999999999999", "")),
  fc.tuple(fc.constantFrom("ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject", "ce-dataschema"), fc.constantFrom("1.0", "0.3", "x", "", "2026-11-24T20:00:00Z", "not-a-time", "/src")),
  fc.tuple(fc.constantFrom("Accept", "Accept-Encoding", "Origin", "Range", "If-None-Match", "Expect", "Transfer-Encoding", "Upgrade", "Connection"), fc.constantFrom("*/*", "gzip", "https://evil.example", "bytes=0-1", "*", "100-continue", "identity", "websocket", "upgrade", "keep-alive")),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).map(noCrLf), headerValueArb),
);
export const headersArb = fc.oneof({ weight: 2, arbitrary: fc.constant<[string, string][]>([]) }, { weight: 3, arbitrary: fc.array(extraHeaderArb, { minLength: 1, maxLength: 4 }) });

// ---- bodies ----------------------------------------------------------------------------------

export const jsonTextArb = fc.oneof(fc.json({ depthSize: "small" }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)));
export const deepArb = fc.record({
  kind: fc.constant("deep" as const),
  depth: fc.constantFrom(63, 64, 65, 100, 999, 1_000, 1_001, 5_000, 20_000),
  open: fc.constantFrom<"[" | "{" | "mixed">("[", "{", "mixed"),
});
export const hugeArb = fc.record({ kind: fc.constant("huge" as const), size: fc.constantFrom(65_536, 500_000, 1_048_000, 1_048_576, 1_100_000, 2_000_000), json: fc.boolean() });

export const batchItemArb = fc.oneof(
  fc.record(
    {
      subject: fc.oneof(subjectArb, fc.constantFrom(1, null, "" as string)),
      data: fc.jsonValue({ maxDepth: 3 }),
      headers: fc.dictionary(fc.constantFrom("Idempotency-Key", "traceparent", "NatsH-X", "NatsH-Nats-Rollup", "Content-Type", "x"), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
    },
    { requiredKeys: ["subject"] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
export const ndjsonArb = fc.array(fc.oneof({ weight: 8, arbitrary: batchItemArb.map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: fc.constantFrom("", "{", "null", "[]", "\u0000", " ") }), { minLength: 0, maxLength: 20 }).map((lines) => lines.join("\n"));

export const cloudEventArb = fc
  .record(
    {
      specversion: fc.constantFrom("1.0", "0.3", 1),
      id: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(1)),
      source: fc.constantFrom("/x", "", "urn:x", 5),
      type: fc.constantFrom("t", "com.example.x", ""),
      datacontenttype: fc.constantFrom("application/json", "text/plain", "application/octet-stream"),
      data: fc.jsonValue({ maxDepth: 3 }),
      data_base64: fc.constantFrom("aGVsbG8=", "!!", ""),
      time: fc.constantFrom("2026-11-24T20:00:00Z", "yesterday"),
    },
    { requiredKeys: [] },
  )
  .map((v) => JSON.stringify(v));

export const webhookIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("wh-0", "wh-1", "wh-2", "wh-3") },
  { weight: 2, arbitrary: fc.constantFrom("x=y", "a".repeat(80), "a".repeat(64), "..", "%2e%2e", "wh 1", "é", "wh-0/deliveries") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
export const validWebhookArb = fc.record({
  id: fc.constantFrom("wh-0", "wh-1", "wh-2", "wh-3"),
  subjects: fc.constantFrom(["fz.js.>"], ["fz.js.a"], ["fz.js.a", "fz.js.b"], ["hooks.>"]),
  url: fc.constantFrom("https://hooks.example/in", "http://hooks.invalid/x", "https://hooks.slack.com/services/T0/B0/XX"),
  format: fc.constantFrom("json", "cloudevents"),
  secret: fc.constant(SECRETS.sw),
  timeoutMs: fc.constant(1_000),
  retry: fc.constant({ schedule: [200, 500] }),
});
export const webhookMutationArb = fc.oneof(
  fc.tuple(fc.constant("id"), webhookIdArb),
  fc.tuple(fc.constant("subjects"), fc.array(fc.oneof(fc.constantFrom("fz.js.>", "fz.js.a", "fz.js.*", "hooks.>", "fz.>", ">", "nostream.x", "fz.js.a.>", "$KV.natsgate_webhooks.>"), subjectArb), { maxLength: 17 })),
  fc.tuple(
    fc.constant("url"),
    fc.oneof(
      fc.constantFrom(
        "http://127.0.0.1:1/", "http://169.254.169.254/latest/meta-data", "http://x y/", "https://user:pw@hooks.example/", "ftp://hooks.example/", "http://[::1]/", "http://localhost/",
        "http://0x7f.1/", "https://hooks.example:99999/", "http://[fe80::1]/", "javascript:alert(1)", "", "https://hooks.slack.com./services/T0/B0/XX", 42,
      ),
      fc.webUrl().map((u) => u.replace(/^(https?:\/\/)([^/]*)/, "$1hooks.example")),
    ),
  ),
  fc.tuple(fc.constant("format"), fc.constantFrom<unknown>("slack", "xml", "", null)),
  fc.tuple(fc.constant("secret"), fc.constantFrom<unknown>("whsec_", "nope", [SECRETS.sw, SECRETS.sw], [SECRETS.sw, SECRETS.sw, SECRETS.sw], "whsec_" + "A".repeat(200))),
  fc.tuple(fc.constant("headers"), fc.dictionary(fc.oneof(fc.constantFrom("X-Custom", "Authorization", "webhook-id", "Content-Length", "a b", "X-Sig"), fc.string({ maxLength: 8 })), fc.string({ maxLength: 20 }), { maxKeys: 3 })),
  fc.tuple(fc.constant("template"), fc.oneof(fc.constantFrom<unknown>("{{data.x}} {{data.constructor}} {{__proto__}}", "<b>{{subject}}</b>", "", 1), fc.record({ text: fc.string({ maxLength: 20 }), blocks: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }) }))),
  fc.tuple(fc.constant("enabled"), fc.constantFrom<unknown>(true, false, "yes")),
  fc.tuple(fc.constant("timeoutMs"), fc.constantFrom<unknown>(50, 100, 60_000, 60_001, -1, 1.5)),
  fc.tuple(fc.constant("retry"), fc.oneof(fc.record({ schedule: fc.array(fc.integer({ min: -1, max: 2_000 }), { maxLength: 21 }) }), fc.constantFrom<unknown>(null, {}, { schedule: "5s" }))),
  fc.tuple(fc.constantFrom("concurrency", "rateLimit"), fc.constantFrom<unknown>(0, 1, 16, 256, 257, 10_000, 20_000)),
  fc.tuple(fc.constant("ordered"), fc.constantFrom<unknown>(true, false, 1)),
  fc.tuple(fc.constantFrom("unknownKey", "__proto__", "source"), fc.constantFrom<unknown>(1, "config", {})),
);
export const webhookDefArb = fc.tuple(validWebhookArb, fc.array(webhookMutationArb, { maxLength: 2 })).map(([base, mutations]) => {
  const def: Record<string, unknown> = { ...base };
  for (const [k, v] of mutations) def[k] = v;
  return JSON.stringify(def);
});

export const anyBodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<BodySpec>({ kind: "none" }) },
  { weight: 20, arbitrary: jsonTextArb.map((text): BodySpec => ({ kind: "text", text })) },
  { weight: 2, arbitrary: deepArb },
  { weight: 1, arbitrary: hugeArb },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): BodySpec => ({ kind: "bytes", hex: Buffer.from(b).toString("hex") })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 50 }).map((text): BodySpec => ({ kind: "text", text })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 16 }).map((b): BodySpec => ({ kind: "bytes", hex: Buffer.concat([Buffer.from('{"a":"'), Buffer.from(b), Buffer.from([0xff, 0xc0]), Buffer.from('"}')]).toString("hex") })) },
  { weight: 1, arbitrary: cloudEventArb.map((text): BodySpec => ({ kind: "text", text })) },
  { weight: 1, arbitrary: deepArb.map((d): BodySpec => ({ ...d, wrap: "cloudevent" })) },
);

export const batchBodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 6, arbitrary: ndjsonArb.map((text): BodySpec => ({ kind: "text", text })) },
  { weight: 4, arbitrary: fc.array(batchItemArb, { maxLength: 20 }).map((items): BodySpec => ({ kind: "text", text: JSON.stringify(items) })) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 100_001, 200_000).map((count): BodySpec => ({ kind: "many", count })) },
  { weight: 1, arbitrary: deepArb.map((d): BodySpec => ({ ...d, wrap: "batch" })) },
  { weight: 2, arbitrary: anyBodyArb },
);

// ---- routes ----------------------------------------------------------------------------------

/** JSON text nested `depth` levels deep. */
export const deepText = (depth: number, open: "[" | "{" | "mixed") =>
  open === "[" ? "[".repeat(depth) + "]".repeat(depth) : open === "{" ? '{"a":'.repeat(depth) + "1" + "}".repeat(depth) : '[{"a":'.repeat(Math.ceil(depth / 2)) + "0" + "}]".repeat(Math.ceil(depth / 2));
