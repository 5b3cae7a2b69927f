/**
 * The configuration file's shape (DESIGN.md, "Configuration"), validated once at
 * start with zod. Every key is optional; unknown keys are errors so that a typo
 * is reported instead of silently ignored.
 */
import { isIP } from "node:net";
import { CONTROL_CHARACTERS, passwordHashProblem } from "./password-hash.js";
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { DEFAULT_MAX_JSON_DEPTH, MAX_JSON_DEPTH } from "../http/body.js";
import { subjectProblem } from "../nats/subjects.js";
import { webhookSchema } from "./webhook.js";
import { LOG_FORMATS, LOG_LEVELS } from "../logger.js";

/** Default HTTP port. */
export const DEFAULT_PORT = 8080;
/** Default listen address. */
export const DEFAULT_HOST = "0.0.0.0";
/** Default NATS URL, also where an embedded nats-server is started. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** Largest batch body: 32 MiB. */
export const DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024;
/** Most items in one batch. */
export const DEFAULT_MAX_BATCH_ITEMS = 100_000;
/** JetStream publish acknowledgement timeout, and the wait for a core publish's confirming pong: 5 s. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** A server that leaves a ping unanswered this long counts as stalled (503, not ready): 2 s. */
export const DEFAULT_STALL_TIMEOUT_MS = 2_000;
/** Default `/v1/request` timeout: 5 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Upper bound for `/v1/request?timeout=`: 60 s. */
export const MAX_REQUEST_TIMEOUT_MS = 60_000;
/** How long SIGTERM waits for in-flight requests: 10 s. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Time a client has to send a whole HTTP request, headers and body: 30 s (Node's own default is 300 s). */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;
/** Time a client has to send an HTTP request's headers: 10 s. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** SSE heartbeat comment interval: 15 s. */
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;
/** Messages buffered per SSE client before it is ended with `event: overflow`. */
export const DEFAULT_SSE_MAX_BUFFERED = 1_000;

const duration = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a duration such as 500ms, 30s, 5m, 2h or 7d, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

const port = z.number().int().min(0).max(65535);
const subjectList = z.array(z.string().min(1)).min(1);
const ruleSet = (rule: z.ZodString) => z.strictObject({ allow: z.array(rule).default([]), deny: z.array(rule).default([]) });
/** Publish rules: subject patterns (a stray space would otherwise make a deny that never matches). */
export const publishRules = ruleSet(z.string().regex(/^\S+$/, "a subject pattern, without spaces"));
/** Subscribe rules: subject patterns, or `"subject queue"` for joining a queue group, as in NATS. */
export const subscribeRules = ruleSet(z.string().regex(/^\S+(\s+\S+)?$/, 'a subject pattern, or "subject queue" for a queue group'));

const streamName = z
  .string()
  .min(1)
  .regex(/^[^\s.*>/\\]+$/, "a stream name cannot contain whitespace, '.', '*', '>', '/' or '\\'");

const streamSchema = z.strictObject({
  name: streamName,
  subjects: subjectList,
  maxAge: duration.optional(),
  maxBytes: z.number().int().positive().optional(),
  maxMsgs: z.number().int().positive().optional(),
  duplicateWindow: duration.optional(),
  replicas: z.number().int().min(1).max(5).default(1),
  storage: z.enum(["file", "memory"]).default("file"),
  retention: z.enum(["limits", "interest", "workqueue"]).default("limits"),
});

const natsSchema = z
  .strictObject({
    servers: z.array(z.string().min(1)).min(1).default([DEFAULT_NATS_URL]),
    name: z.string().min(1).default("natsgate"),
    token: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
    nkeySeed: z.string().min(1).optional(),
    credsFile: z.string().min(1).optional(),
    tls: z
      .strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() })
      .optional(),
    embedded: z.enum(["auto", "never"]).default("auto"),
    ackTimeoutMs: z.number().int().positive().default(DEFAULT_ACK_TIMEOUT_MS),
    stallTimeoutMs: z.number().int().positive().default(DEFAULT_STALL_TIMEOUT_MS),
  })
  .superRefine((n, ctx) => {
    if ((n.user === undefined) !== (n.pass === undefined)) {
      ctx.addIssue({ code: "custom", path: [n.user ? "pass" : "user"], message: "user and pass go together" });
    }
    const methods = [n.token, n.user, n.nkeySeed, n.credsFile].filter((m) => m !== undefined);
    if (methods.length > 1) {
      ctx.addIssue({ code: "custom", message: "choose one of token, user+pass, nkeySeed or credsFile" });
    }
  });

/** Subscriptions one WebSocket may hold. */
export const DEFAULT_WS_MAX_SUBSCRIPTIONS = 100;
/** Largest WebSocket frame accepted: 1 MiB (larger closes with 1009). */
export const DEFAULT_WS_MAX_FRAME_BYTES = 1024 * 1024;
/** Bytes a WebSocket may have unsent before it is closed with 1013: 8 MiB. */
export const DEFAULT_WS_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Protocol ping interval: 20 s. */
export const DEFAULT_WS_PING_INTERVAL_MS = 20_000;
/** A client silent (no frame, no pong) this long is disconnected: 60 s. */
export const DEFAULT_WS_IDLE_TIMEOUT_MS = 60_000;

/** Frames one WebSocket may have read but not yet answered; beyond it the socket stops being read. */
export const DEFAULT_WS_MAX_INFLIGHT_FRAMES = 256;
/** Characters of such frames (about bytes): 4 MiB, so 256 frames of 1 MiB cannot pile up. */
export const DEFAULT_WS_MAX_INFLIGHT_BYTES = 4 * 1024 * 1024;

/** Concurrent SSE streams plus WebSocket sockets one client may hold (anonymous: one address). */
export const DEFAULT_MAX_STREAMS_PER_CLIENT = 100;
/** Subscriptions one client may hold over all its streams: each SSE stream and each WebSocket `sub` is one. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CLIENT = 500;

const clientSchema = z
  .strictObject({
    name: z.string().min(1),
    token: z
      .string()
      .min(1)
      .refine((t) => !t.startsWith("sha256:") || /^sha256:[0-9a-f]{64}$/i.test(t), "a hashed token is sha256:<64 hex digits>")
      .optional(),
    /** HTTP Basic user name (no colon, no control characters: RFC 7617). */
    user: z
      .string()
      .min(1)
      .max(256)
      .refine((u) => !u.includes(":") && !CONTROL_CHARACTERS.test(u), "a user name has no colon and no control characters")
      .optional(),
    /** The user's password as a scrypt hash, never in clear. */
    password: z
      .string()
      .superRefine((p, ctx) => {
        const problem = passwordHashProblem(p);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    publish: publishRules.optional(),
    subscribe: subscribeRules.optional(),
    admin: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if ((c.user === undefined) !== (c.password === undefined)) {
      ctx.addIssue({ code: "custom", path: [c.user === undefined ? "user" : "password"], message: "user and password go together" });
    }
    if (c.token === undefined && c.user === undefined) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "a client needs a token, or a user and password (or both)" });
    }
  });

const webhookEndpoint = webhookSchema.refine((w) => w.id !== undefined, { path: ["id"], message: "a webhook in the config file needs an id" });

/** KV bucket holding the webhook registry. */
export const DEFAULT_WEBHOOK_BUCKET = "natsgate_webhooks";
/** Stream of dead letters. */
export const DEFAULT_DEAD_LETTER_STREAM = "NATSGATE_DEAD_LETTERS";
/** Stream of recent delivery attempts. */
export const DEFAULT_ATTEMPT_STREAM = "NATSGATE_WEBHOOK_ATTEMPTS";
/** How long dead letters are kept: 30 days, in ms. */
export const DEFAULT_DEAD_LETTER_MAX_AGE_MS = 30 * 86_400_000;
/** Attempt records kept per webhook. */
export const DEFAULT_ATTEMPTS_PER_WEBHOOK = 100;
/**
 * Hosts held to Slack's pace (one request per second per URL, across replicas)
 * whatever a webhook's format: Slack's own. Slack-compatible servers
 * (Mattermost, Rocket.Chat) take the format without the limit.
 */
export const DEFAULT_PACED_HOSTS = ["hooks.slack.com"];

const cidrOrHost = z
  .string()
  .min(1)
  .refine((v) => {
    const [net, prefix, ...rest] = v.split("/");
    if (rest.length > 0) return false;
    const family = isIP(net!);
    if (prefix === undefined) return family !== 0 || /^[A-Za-z0-9.-]+$/.test(net!);
    const bits = Number(prefix);
    return family !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
  }, "a hostname, an IP address or a CIDR range such as 10.0.0.0/8");

const inboundSource = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, "use letters, digits, '-' and '_'"),
  subject: z.string().refine((s) => subjectProblem(s, false) === undefined, "must be a literal NATS subject (no wildcards, no empty tokens)"),
  verify: z.strictObject({
    type: z.enum(["standard-webhooks", "github", "slack", "hmac-sha256"]),
    secret: z.string().min(1),
    header: z.string().optional(),
  }),
});

/** The whole configuration file. */
export const configSchema = z.strictObject({
  server: z
    .strictObject({
      port: port.default(DEFAULT_PORT),
      host: z.string().min(1).default(DEFAULT_HOST),
      maxBodyBytes: z.number().int().positive().optional(),
      /** Deepest JSON nesting accepted (objects and arrays), so no event is too deep to re-serialise. */
      maxJsonDepth: z.number().int().min(1).max(MAX_JSON_DEPTH).default(DEFAULT_MAX_JSON_DEPTH),
      maxBatchBytes: z.number().int().positive().default(DEFAULT_MAX_BATCH_BYTES),
      maxBatchItems: z.number().int().positive().default(DEFAULT_MAX_BATCH_ITEMS),
      shutdownTimeoutMs: z.number().int().nonnegative().default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
      /** A slow-body client holds a socket and a body buffer at most this long (408 after). */
      readTimeoutMs: z.number().int().min(100).default(DEFAULT_READ_TIMEOUT_MS),
      headersTimeoutMs: z.number().int().min(100).default(DEFAULT_HEADERS_TIMEOUT_MS),
      /** Proxies in front whose X-Forwarded-For hops are believed: true is one, a number that many. */
      trustProxy: z.union([z.boolean(), z.number().int().min(0).max(16)]).default(false),
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      cors: z.strictObject({ origins: z.array(z.string()).default([]) }).optional(),
      /** Serve plain `POST /v1/publish/{subject}` from Node's request event (Node only); false sends every request through Hono. */
      fastPublish: z.boolean().default(true),
    })
    .prefault({}),
  nats: natsSchema.prefault({}),
  jetstream: z
    .strictObject({ streams: z.array(streamSchema).default([]) })
    .prefault({})
    .superRefine((js, ctx) => {
      const seen = new Set<string>();
      js.streams.forEach((s, i) => {
        if (seen.has(s.name)) ctx.addIssue({ code: "custom", path: ["streams", i, "name"], message: `duplicate stream ${s.name}` });
        seen.add(s.name);
      });
    }),
  schemas: z
    .strictObject({
      strict: z.boolean().default(false),
      files: z
        .array(z.strictObject({ subject: z.string().min(1), jsonSchema: z.string().min(1), description: z.string().optional() }))
        .default([]),
    })
    .prefault({}),
  auth: z
    .strictObject({
      mode: z.enum(["none", "required"]).default("none"),
      clients: z.array(clientSchema).default([]),
      jwt: z
        .strictObject({
          issuer: z.string().optional(),
          audience: z.string().optional(),
          secret: z.string().min(32, "an HMAC secret needs at least 32 characters").optional(),
          publicKey: z.string().optional(),
          jwksUrl: z.url().optional(),
          /** Minimum time between JWKS refetches for unknown kids, in ms (jose's default). */
          jwksCooldownMs: z.number().int().nonnegative().default(30_000),
        })
        .refine((j) => [j.secret, j.publicKey, j.jwksUrl].filter(Boolean).length === 1, "set exactly one of secret, publicKey or jwksUrl")
        .optional(),
    })
    .prefault({})
    .superRefine((a, ctx) => {
      if (a.mode === "required" && a.clients.length === 0 && !a.jwt) {
        ctx.addIssue({ code: "custom", path: ["mode"], message: "required needs clients or jwt, or nobody could get in" });
      }
      const names = new Set<string>();
      const users = new Set<string>();
      a.clients.forEach((c, i) => {
        if (names.has(c.name)) ctx.addIssue({ code: "custom", path: ["clients", i, "name"], message: `duplicate client ${c.name}` });
        names.add(c.name);
        // Names compare in NFC, as sign-ins do: "josé" composed and decomposed is one user.
        const user = c.user?.normalize("NFC");
        if (user !== undefined && users.has(user)) ctx.addIssue({ code: "custom", path: ["clients", i, "user"], message: `duplicate user ${c.user}` });
        if (user !== undefined) users.add(user);
      });
    }),
  webhooks: z
    .strictObject({
      allowPrivateNetworks: z.boolean().default(false),
      allowlist: z.array(cidrOrHost).default([]),
      bucket: z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '-' and '_'").default(DEFAULT_WEBHOOK_BUCKET),
      deadLetterStream: streamName.default(DEFAULT_DEAD_LETTER_STREAM),
      attemptStream: streamName.default(DEFAULT_ATTEMPT_STREAM),
      deadLetterMaxAge: duration.default(DEFAULT_DEAD_LETTER_MAX_AGE_MS),
      attemptsPerWebhook: z.number().int().min(1).max(10_000).default(DEFAULT_ATTEMPTS_PER_WEBHOOK),
      /** Copies of the registry, pace, dead-letter and attempt state; unset: the most any configured stream has (else 1). */
      replicas: z.number().int().min(1).max(5).optional(),
      pacedHosts: z
        .array(z.string().regex(/^[A-Za-z0-9.-]+$/, "a host name such as hooks.slack.com").transform((h) => h.toLowerCase()))
        .default(DEFAULT_PACED_HOSTS),
      endpoints: z.array(webhookEndpoint).default([]),
    })
    .prefault({})
    .superRefine((w, ctx) => {
      const ids = new Set<string>();
      w.endpoints.forEach((e, i) => {
        if (ids.has(e.id!)) ctx.addIssue({ code: "custom", path: ["endpoints", i, "id"], message: `duplicate webhook ${e.id}` });
        ids.add(e.id!);
      });
    }),
  inbound: z
    .array(inboundSource)
    .default([])
    .superRefine((list, ctx) => {
      const names = new Set<string>();
      list.forEach((s, i) => {
        if (names.has(s.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate inbound webhook ${s.name}` });
        names.add(s.name);
      });
    }),
  sse: z
    .strictObject({
      heartbeatMs: z.number().int().positive().default(DEFAULT_SSE_HEARTBEAT_MS),
      maxBufferedMessages: z.number().int().positive().default(DEFAULT_SSE_MAX_BUFFERED),
    })
    .prefault({}),
  ws: z
    .strictObject({
      maxSubscriptions: z.number().int().positive().default(DEFAULT_WS_MAX_SUBSCRIPTIONS),
      maxFrameBytes: z.number().int().positive().default(DEFAULT_WS_MAX_FRAME_BYTES),
      maxBufferedBytes: z.number().int().positive().default(DEFAULT_WS_MAX_BUFFERED_BYTES),
      pingIntervalMs: z.number().int().positive().default(DEFAULT_WS_PING_INTERVAL_MS),
      idleTimeoutMs: z.number().int().positive().default(DEFAULT_WS_IDLE_TIMEOUT_MS),
      maxInflightFrames: z.number().int().positive().default(DEFAULT_WS_MAX_INFLIGHT_FRAMES),
      maxInflightBytes: z.number().int().positive().default(DEFAULT_WS_MAX_INFLIGHT_BYTES),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxStreamsPerClient: z.number().int().positive().default(DEFAULT_MAX_STREAMS_PER_CLIENT),
      maxSubscriptionsPerClient: z.number().int().positive().default(DEFAULT_MAX_SUBSCRIPTIONS_PER_CLIENT),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive(),
      burst: z.number().int().positive(),
      /** Older spelling of limits.maxStreamsPerClient; when set it wins. */
      maxStreams: z.number().int().positive().optional(),
    })
    .optional(),
  metrics: z
    .strictObject({
      /** Bearer token /metrics asks for (plain or sha256:<hex>); open to scrapers when unset. */
      token: z
        .string()
        .min(1)
        .refine((t) => !t.startsWith("sha256:") || /^sha256:[0-9a-f]{64}$/i.test(t), "a hashed token is sha256:<64 hex digits>")
        .optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      /** Lowest level written; `silent` writes nothing. `LOG_LEVEL` overrides it. */
      level: z.enum(LOG_LEVELS).default("info"),
      /** `json` lines for log shippers, `pretty` for a terminal. `LOG_FORMAT` overrides it. */
      format: z.enum(LOG_FORMATS).default("json"),
    })
    .prefault({}),
  tracing: z
    .strictObject({
      /** OTLP/HTTP collector (http://collector:4318) that turns the OpenTelemetry SDK on; `OTEL_EXPORTER_OTLP_ENDPOINT` wins. */
      otlpEndpoint: z
        .url({ protocol: /^https?$/, error: "an http:// or https:// URL such as http://collector:4318" })
        .optional(),
      /** `service.name` of the spans; `OTEL_SERVICE_NAME` wins. */
      serviceName: z.string().min(1).max(200).default("natsgate"),
    })
    .prefault({}),
  audit: z
    .strictObject({
      enabled: z.boolean().default(true),
      subject: z.string().min(1).refine((s) => !/[\s*>]/.test(s), "a literal subject").optional(),
    })
    .prefault({}),
});

/** The validated configuration, defaults applied. */
export type Config = z.output<typeof configSchema>;
/** The configuration as written in a file. */
export type ConfigInput = z.input<typeof configSchema>;
/** One `jetstream.streams` entry, validated. */
export type StreamSettings = Config["jetstream"]["streams"][number];
