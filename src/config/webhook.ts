/**
 * A webhook definition as users write it, in the config file or through the
 * admin API: one zod schema serves both, so a webhook accepted by the API is
 * exactly one the config file could hold. Defaults carry their units.
 */
import { z } from "zod";
import { subjectProblem } from "../nats/subjects.js";

/** A webhook id: it names durable consumers and KV keys, so 1 to 64 letters, digits, '-' and '_'. */
export const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Time allowed for one delivery attempt, connect to last response byte: 15 s. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
/** Longest timeout a webhook may ask for: 60 s. */
export const MAX_WEBHOOK_TIMEOUT_MS = 60_000;
/** Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (ms between attempts). */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
/** HTTP requests one replica keeps in flight per webhook. */
export const DEFAULT_WEBHOOK_CONCURRENCY = 16;
/** Deliveries, including those waiting for a retry, outstanding per webhook across replicas. */
export const DEFAULT_WEBHOOK_MAX_PENDING = 1_000;
/** Slack takes about one message per second per incoming-webhook URL. */
export const SLACK_REQUESTS_PER_SECOND = 1;

const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
/** Headers the gateway owns on every delivery; a webhook's `headers` cannot set them. */
export const RESERVED_HEADERS = new Set([
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "content-type",
  "content-length",
  "user-agent",
  "host",
  "connection",
  "transfer-encoding",
  "traceparent",
  "tracestate",
]);

const secret = z.string().refine((s) => {
  if (!SECRET.test(s)) return false;
  const bytes = Buffer.from(s.slice(6), "base64").length;
  return bytes >= 16 && bytes <= 64;
}, "a secret is whsec_ followed by 16 to 64 base64-encoded bytes");

const subjectPattern = z.string().refine((s) => subjectProblem(s, true) === undefined, "must be a valid NATS subject pattern");

/** Slack message template: `text` (required) and optional `blocks`, with `{{path}}` placeholders. */
export const slackTemplateSchema = z.union([
  z.string().min(1),
  z.strictObject({ text: z.string().min(1), blocks: z.array(z.unknown()).optional() }),
]);

/** The fields a user sets on a webhook. */
export const webhookSchema = z
  .strictObject({
    id: z
      .string()
      .regex(WEBHOOK_ID, "use 1 to 64 letters, digits, '-' and '_'")
      .optional(),
    subjects: z.array(subjectPattern).min(1).max(16),
    url: z
      .url({ protocol: /^https?$/, error: "an http:// or https:// URL" })
      .refine((u) => URL.canParse(u), "an http:// or https:// URL")
      .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), "credentials in the URL would be logged; use headers"),
    format: z.enum(["json", "slack", "cloudevents"]).default("json"),
    /** One secret, or two while rotating (each signs; receivers accept either). */
    secret: z.union([secret, z.array(secret).min(1).max(2)]).optional(),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "an HTTP header name"), z.string().max(4096).regex(/^[\t\x20-\x7e]*$/, "printable ASCII (a header value)"))
      .refine((h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())), "cannot set the gateway's own headers")
      .optional(),
    template: slackTemplateSchema.optional(),
    enabled: z.boolean().default(true),
    timeoutMs: z.number().int().min(100).max(MAX_WEBHOOK_TIMEOUT_MS).optional(),
    /** Requests per second per replica (hosts in `webhooks.pacedHosts` are held to one per second per URL regardless). */
    rateLimit: z.number().positive().max(10_000).optional(),
    retry: z.strictObject({ schedule: z.array(z.number().int().nonnegative().max(7 * 86_400_000)).max(20) }).optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    /** Deliver one event at a time, in stream order (a failing event holds back the rest). */
    ordered: z.boolean().default(false),
  })
  .superRefine((w, ctx) => {
    if (w.ordered && w.subjects.length > 1) {
      ctx.addIssue({ code: "custom", path: ["subjects"], message: "ordered delivery takes one subject pattern (use a wildcard)" });
    }
    if (w.template !== undefined && w.format !== "slack") {
      ctx.addIssue({ code: "custom", path: ["template"], message: "template applies to format slack only" });
    }
  });

/** A webhook as written. */
export type WebhookInput = z.input<typeof webhookSchema>;
/** A webhook with defaults applied and an id. */
export type WebhookSpec = z.output<typeof webhookSchema> & { id: string };
