/**
 * A webhook as it is stored in the KV bucket (its definition, from
 * `config/webhook.ts`, plus where it came from and its state), and the views
 * of it the admin API shows.
 */
import type { WebhookSpec } from "../config/webhook.js";

/** What the KV bucket holds per webhook. */
export interface StoredWebhook extends WebhookSpec {
  /** `config` webhooks come from the file and are replaced when it changes. */
  source: "api" | "config";
  /** Why the gateway turned it off (410 Gone, Slack's channel_is_archived). */
  disabledReason?: string;
  /** Who turned it off: its destination (410), an admin (PUT), or the gateway's setup (not deliverable). */
  disabledBy?: "destination" | "admin" | "setup";
  /** Replays in progress: extra consumers re-reading part of a stream. */
  replays?: Replay[];
  createdAt: string;
  updatedAt: string;
}

/** A replay in progress: a consumer over `pattern` from a past position up to `until`. */
export interface Replay {
  durable: string;
  stream: string;
  pattern: string;
  /** Last stream sequence to deliver (the stream's end when the replay was asked for). */
  until: number;
  /** The request's `from`, as given. */
  from: string;
  startedAt: string;
}

/** The secrets of a webhook as a list. */
export function secretsOf(hook: Pick<WebhookSpec, "secret">): string[] {
  if (hook.secret === undefined) return [];
  return Array.isArray(hook.secret) ? hook.secret : [hook.secret];
}

/**
 * A webhook as the API shows it: signing secrets, header values and URL
 * credentials are never returned. Every header value is masked, whatever its
 * name: a credential can hide behind any header (X-Custom, X-Sig, X-Pass), and
 * the headers that describe the request are the gateway's own.
 */
export function publicWebhook(hook: StoredWebhook): Omit<StoredWebhook, "secret"> & { secrets: number } {
  const { secret: _secret, ...rest } = hook;
  const shown: Omit<StoredWebhook, "secret"> & { secrets: number } = { ...rest, url: maskUrl(hook.url), secrets: secretsOf(hook).length };
  if (hook.headers) {
    shown.headers = Object.fromEntries(Object.entries(hook.headers).map(([k, v]) => [k, MASK]));
  }
  return shown;
}

/** What a masked value shows. */
export const MASK = "***";

/**
 * Path segments and query keys shown as they are: words webhook URLs are made
 * of, and versions (`v1`). Everything else — ids and tokens, however word-like
 * (Slack's `/services/T…/B…/<token>`, Discord's `/api/webhooks/<id>/<token>`,
 * Zapier's `/hooks/catch/<id>/<token>/`, `/x/supersecretword`) — is masked:
 * only what is known to be safe is shown.
 */
const SHOWN_WORDS = new Set([
  "api", "hook", "hooks", "webhook", "webhooks", "services", "service", "catch", "event", "events",
  "in", "incoming", "inbound", "notify", "notifications", "callback", "callbacks", "integration",
  "integrations", "trigger", "triggers", "workflows", "messages", "alerts", "ingest", "collect",
  "slack", "discord", "teams", "github", "format", "type", "channel", "version",
]);
const shown = (word: string) => SHOWN_WORDS.has(word) || /^v\d{1,2}$/.test(word);

/**
 * The URL with everything that may be a credential masked: user info, the
 * fragment, every query value, query keys and path segments but the known
 * words. Scheme, host and port stay, so an operator can still tell where it goes.
 */
export function maskUrl(url: string): string {
  const u = new URL(url);
  if (u.username) u.username = MASK;
  if (u.password) u.password = MASK;
  if (u.hash) u.hash = MASK;
  const keys = [...new Set(u.searchParams.keys())];
  u.search = keys.length ? "?" + keys.map((k) => (shown(k) ? `${k}=${MASK}` : MASK)).join("&") : "";
  u.pathname = u.pathname
    .split("/")
    .map((seg) => (seg === "" || shown(seg) ? seg : MASK))
    .join("/");
  return u.toString().replace(/%2A%2A%2A/g, MASK);
}

/** The definition's fields (not state such as enabled, timestamps or replays), for comparing a config webhook with the stored one. */
export function definitionKey(hook: WebhookSpec | StoredWebhook): string {
  const {
    enabled: _enabled,
    source: _source,
    disabledReason: _reason,
    disabledBy: _by,
    createdAt: _created,
    updatedAt: _updated,
    replays: _replays,
    ...definition
  } = hook as Partial<StoredWebhook>;
  return canonicalJson(definition);
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
