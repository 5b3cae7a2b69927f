/**
 * `createClient(options)`: the gateway's HTTP API for browsers and Node 20+,
 * built on the platform's fetch only. Credentials are asked for on every call
 * (`getToken`), so a refreshed token is used as soon as it exists; a 429 or
 * 503 is retried after its Retry-After (the gateway published nothing then),
 * up to `maxRetries`, and every other refusal is a typed `ProblemError`.
 */
import { problemError, type ProblemError } from "./problem.js";
import { sleep } from "./sleep.js";
import { subscribe, type Subscription, type SubscribeOptions } from "./subscribe.js";
import { openSocket, type Socket, type SocketOptions } from "./socket.js";

/** How a client signs in: a token (static or refreshed), or a user and password (HTTP Basic). */
export interface ClientOptions {
  /** The gateway's base URL, e.g. `https://events.example.com`. */
  url: string | URL;
  token?: string;
  /** Called before every request and (re)connection; its token wins over `token`. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  user?: string;
  password?: string;
  /** 429 and 503 answers retried after their Retry-After (default `DEFAULT_MAX_RETRIES`). */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited for: the error is thrown, in ms (default `DEFAULT_MAX_RETRY_DELAY_MS`). */
  maxRetryDelayMs?: number;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** The WebSocket class for `socket()` (default: the global one; Node 22+ and browsers have it). */
  WebSocket?: typeof WebSocket;
}

/** Retries of a 429 or 503 before its error is thrown. */
export const DEFAULT_MAX_RETRIES = 2;
/** Longest Retry-After waited for, in ms. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
/** Wait before a retry the gateway gave no Retry-After for, in ms. */
const DEFAULT_RETRY_DELAY_MS = 1_000;

/** What a publish returns: the subject, and where a stream stored it. */
export interface PublishResult {
  subject: string;
  stream?: string;
  seq?: number;
  duplicate?: boolean;
}

/** Options of one publish. */
export interface PublishOptions {
  /** Becomes Nats-Msg-Id: JetStream drops a second message with the same key. */
  idempotencyKey?: string;
  /** NATS headers of the message (sent as NatsH-*; traceparent, tracestate and baggage as they are). */
  headers?: Record<string, string>;
  /** The body's type when `data` is bytes or a string to send as is (default: JSON of `data`). */
  contentType?: string;
  signal?: AbortSignal;
}

/** Options of one request: a publish's, without an idempotency key (a request is not stored), and how long to wait for the reply. */
export interface RequestOptions extends Omit<PublishOptions, "idempotencyKey"> {
  /** How long the gateway waits for the reply, in ms (the gateway's default otherwise). */
  timeoutMs?: number;
}

/** One item of a batch. */
export interface BatchItem {
  subject: string;
  data: unknown;
  headers?: Record<string, string>;
}

/** A batch item's outcome, in the batch's order. */
export interface BatchResult extends Partial<PublishResult> {
  index: number;
  status: number;
  title?: string;
  detail?: string;
}

/** A reply to `request`: its payload (JSON where it is JSON) and NATS headers. */
export interface Reply {
  data: unknown;
  headers: Record<string, string>;
  status: number;
}

const TRACE_HEADERS = new Set(["traceparent", "tracestate", "baggage"]);

/** The HTTP headers that carry `headers` as NATS headers. */
export function natsHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[TRACE_HEADERS.has(name.toLowerCase()) ? name : `NatsH-${name}`] = value;
  return out;
}

/** A subject as one path segment: its characters kept where a URL allows them. */
const subjectPath = (subject: string) => encodeURIComponent(subject).replaceAll("%2A", "*").replaceAll("%3E", ">");

/** Base64 of UTF-8 text, in chunks: spreading a long string's bytes into one call overflows the stack. */
function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A body sent as it is (bytes, a Blob, or a string with its own content type), not as JSON. */
const isRaw = (data: unknown, contentType: string | undefined) =>
  data instanceof Uint8Array || data instanceof ArrayBuffer || (typeof Blob !== "undefined" && data instanceof Blob) || (typeof data === "string" && contentType !== undefined);

/** 503 answers that are not worth a retry: no one subscribes to the request's subject. */
const NOT_RETRIED = new Set(["https://natsgate.dev/problems/no-responders"]);

/** The gateway's API. */
export class Client {
  readonly url: URL;
  readonly #options: ClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.url = new URL(options.url);
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** True when a token can be asked for again (`getToken`): a 401 or an expiry may then pass. */
  get canRefresh(): boolean {
    return this.#options.getToken !== undefined;
  }

  /** The bearer token for the next call, or none (a client with a password has none). */
  async token(): Promise<string | undefined> {
    return (await this.#options.getToken?.()) ?? this.#options.token;
  }

  /** The Authorization header for the next call, or none. */
  async authorization(): Promise<string | undefined> {
    const token = await this.token();
    if (token) return `Bearer ${token}`;
    const { user, password } = this.#options;
    if (user === undefined || password === undefined) return undefined;
    return `Basic ${base64Utf8(`${user}:${password}`)}`;
  }

  /** Resolves `path` against the gateway's URL. */
  resolve(path: string): URL {
    return new URL(path.replace(/^\//, ""), this.url.href.endsWith("/") ? this.url : `${this.url.href}/`);
  }

  /** Sends a request with credentials, retrying 429 and 503 after Retry-After; throws a `ProblemError` for any other refusal. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const maxRetries = this.#options.maxRetries ?? DEFAULT_MAX_RETRIES;
    const maxDelay = this.#options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init.headers);
      const auth = await this.authorization();
      if (auth) headers.set("authorization", auth);
      const res = await this.#fetch(this.resolve(path), { ...init, headers });
      if (res.ok) return res;
      const err: ProblemError = await problemError(res);
      const delay = err.retryAfterMs ?? DEFAULT_RETRY_DELAY_MS;
      if ((res.status !== 429 && res.status !== 503) || NOT_RETRIED.has(err.type) || attempt >= maxRetries || delay > maxDelay) throw err;
      await sleep(delay, init.signal ?? undefined);
    }
  }

  /** Publishes one event; a stream's subject answers with its stream and sequence. */
  async publish(subject: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const raw = isRaw(data, options.contentType);
    const headers: Record<string, string> = { "content-type": options.contentType ?? (raw ? "application/octet-stream" : "application/json"), ...natsHeaders(options.headers) };
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    const body = raw ? (data as BodyInit) : JSON.stringify(data);
    const res = await this.fetch(`/v1/publish/${subjectPath(subject)}`, { method: "POST", headers, body, signal: options.signal ?? null });
    return (await res.json()) as PublishResult;
  }

  /** Publishes several events in one request (NDJSON); one result per item, in order, each with its own status. */
  async publishBatch(items: readonly BatchItem[], options: { signal?: AbortSignal } = {}): Promise<BatchResult[]> {
    const body = items.map((i) => JSON.stringify(i.headers ? { subject: i.subject, data: i.data, headers: i.headers } : { subject: i.subject, data: i.data })).join("\n") + "\n";
    const res = await this.fetch("/v1/publish", { method: "POST", headers: { "content-type": "application/x-ndjson" }, body, signal: options.signal ?? null });
    return ((await res.json()) as { results: BatchResult[] }).results;
  }

  /** NATS request/reply: the first reply, or a `ProblemError` (503 no responders, 504 timeout). */
  async request(subject: string, data: unknown, options: RequestOptions = {}): Promise<Reply> {
    const query = options.timeoutMs === undefined ? "" : `?timeout=${options.timeoutMs}`;
    const raw = isRaw(data, options.contentType);
    const res = await this.fetch(`/v1/request/${subjectPath(subject)}${query}`, {
      method: "POST",
      headers: { "content-type": options.contentType ?? (raw ? "application/octet-stream" : "application/json"), ...natsHeaders(options.headers) },
      body: raw ? (data as BodyInit) : JSON.stringify(data),
      signal: options.signal ?? null,
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (name.startsWith("natsh-")) headers[name.slice(6)] = value;
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? "" : JSON.parse(text);
    } catch {
      // Not JSON: the text.
    }
    return { data: parsed, headers, status: res.status };
  }

  /** Subscribes over Server-Sent Events; the subscription keeps its cursor and resumes after any loss. */
  subscribe<T = unknown>(subjects: string | readonly string[], options: SubscribeOptions<T>): Subscription {
    return subscribe<T>(this, typeof subjects === "string" ? [subjects] : subjects, options);
  }

  /** Opens a WebSocket that keeps its subscriptions across reconnects. */
  socket(options: SocketOptions = {}): Socket {
    if (this.#options.token === undefined && this.#options.getToken === undefined && this.#options.user !== undefined) {
      throw new TypeError("socket() needs a token: a WebSocket sends its credentials in the URL, where a password is never taken");
    }
    return openSocket(this, this.#options.WebSocket ?? globalThis.WebSocket, options);
  }
}

/** A client for the gateway at `options.url`. */
export const createClient = (options: ClientOptions) => new Client(options);
