/**
 * A subscription over Server-Sent Events that outlives its connections: it
 * keeps the cursor of the last event, and after a network loss, a gateway
 * restart, an overflow or an expired token it comes back with Last-Event-ID,
 * so subjects a stream captures arrive with no gap and no duplicate. Each event
 * is handed over only once `onEvent` has finished with the last one: a slow
 * consumer stops the reading, and the gateway's bounded buffer then ends the
 * stream (`overflow`) for a resume from the cursor instead of growing memory.
 */
import type { Client } from "./client.js";
import type { Envelope } from "./envelope.js";
import { ProblemError, TokenExpiredError, UnauthorizedError } from "./problem.js";
import { report, reportError } from "./report.js";
import { sleep } from "./sleep.js";
import { SseParser } from "./sse.js";

/** An event as delivered: the envelope and, where a stream holds it, its cursor. */
export interface SubscriptionEvent<T = unknown> extends Envelope<T> {
  /** Resume after this event with it (`lastEventId`); undefined for core NATS messages. */
  id: string | undefined;
}

/** Where a subscription is. */
export type SubscriptionStatus =
  | { state: "connecting" }
  | { state: "live" }
  | { state: "retrying"; reason: string; inMs: number }
  /** Given up: a refusal retrying cannot fix (400, 403, a second 401), or `close()`. */
  | { state: "closed"; error?: ProblemError };

/** Options of `subscribe`. */
export interface SubscribeOptions<T = unknown> {
  /**
   * Called once per event, in order; the next waits until it has returned (or its
   * promise settled). What it throws is reported as an event listener's error is
   * (the console; `uncaughtException` in Node) and the event counts as handled: a
   * consumer that must not skip one keeps its own cursor and resubscribes from it.
   */
  onEvent(event: SubscriptionEvent<T>): void | Promise<void>;
  onStatus?(status: SubscriptionStatus): void;
  /** Start after this cursor (a previous subscription's `cursor`). */
  lastEventId?: string;
  /** Start at this time (subjects a stream captures). */
  since?: string | Date;
  deliver?: "all" | "last" | "new";
  queue?: string;
  /**
   * A live stream silent this long is taken for dead and reopened, in ms (default
   * `DEFAULT_IDLE_TIMEOUT_MS`): the gateway sends a heartbeat every `sse.heartbeatMs`
   * (15 s by default), so keep this above twice that.
   */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A running subscription. */
export interface Subscription {
  /** The last event's cursor: give it to a later `subscribe` as `lastEventId`. */
  readonly cursor: string | undefined;
  /** Resolves once the subscription has ended (closed, or refused for good). */
  readonly closed: Promise<ProblemError | undefined>;
  close(): void;
}

/** A live stream silent this long is reopened, in ms: three of the gateway's default 15 s heartbeats. */
export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
/** First wait before reconnecting, in ms; doubled per failure up to `MAX_RETRY_MS`. */
export const MIN_RETRY_MS = 500;
/** Longest wait between reconnects, in ms. */
export const MAX_RETRY_MS = 15_000;

/** Why a live stream ended, as the gateway said. */
type Ending = "overflow" | "expired" | "shutdown" | "ended";

/** The time the gateway answered at, from its Date header (whole seconds, so never later than the truth); undefined without one. */
function serverTime(res: Response): string | undefined {
  const date = Date.parse(res.headers.get("date") ?? "");
  return Number.isNaN(date) ? undefined : new Date(date).toISOString();
}

/** Starts a subscription (see `Client.subscribe`). */
export function subscribe<T>(client: Client, subjects: readonly string[], options: SubscribeOptions<T>): Subscription {
  let cursor = options.lastEventId;
  let since = options.since instanceof Date ? options.since.toISOString() : options.since;
  let deliver = options.deliver;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  // Aborted once the subscription ends: the live request, a retry's wait, the idle timer.
  const stop = new AbortController();
  let controller: AbortController | undefined;
  let stopped = false;
  let finish!: (err: ProblemError | undefined) => void;
  const closed = new Promise<ProblemError | undefined>((resolve) => (finish = resolve));
  const status = (s: SubscriptionStatus) => report(options.onStatus, s);
  const onAbort = () => end();

  const end = (error?: ProblemError) => {
    if (stopped) return;
    stopped = true;
    options.signal?.removeEventListener("abort", onAbort);
    controller?.abort();
    stop.abort();
    status(error ? { state: "closed", error } : { state: "closed" });
    finish(error);
  };

  const query = () => {
    const q = new URLSearchParams();
    for (const s of subjects) q.append("subject", s);
    if (options.queue) q.set("queue", options.queue);
    // A cursor (in the header) says where to resume; before the first event, where to start.
    if (cursor === undefined) {
      if (since !== undefined) q.set("since", since);
      else if (deliver !== undefined) q.set("deliver", deliver);
    }
    return q.toString();
  };

  async function run(): Promise<void> {
    let failures = 0;
    let unauthorized = 0;
    while (!stopped) {
      controller = new AbortController();
      status({ state: "connecting" });
      let retryIn: number | undefined;
      let reason: string;
      try {
        const res = await client.fetch(`/v1/subscribe?${query()}`, {
          headers: { accept: "text/event-stream", ...(cursor !== undefined ? { "last-event-id": cursor } : {}) },
          signal: controller.signal,
          cache: "no-store",
        });
        // Live from here: before any event, a reconnect must not skip what was published
        // meanwhile. The gateway's clock says when, not this machine's, which may be off.
        if (cursor === undefined && since === undefined && !options.queue && (deliver === undefined || deliver === "new")) {
          since = serverTime(res) ?? new Date().toISOString();
          deliver = undefined;
        }
        status({ state: "live" });
        failures = 0;
        unauthorized = 0;
        const ending = await read(res, controller);
        if (ending === "expired" && !client.canRefresh) return end(new TokenExpiredError({ type: "about:blank", title: "Token expired", status: 401, detail: "the token expired and no getToken is set to refresh it" }));
        reason = `stream ended (${ending})`;
        // An overflow or shutdown is answered at once: the gateway is ready for the resume.
        retryIn = ending === "ended" || ending === "silent" ? undefined : 0;
      } catch (err) {
        if (stopped) return;
        if (err instanceof UnauthorizedError && unauthorized++ === 0 && client.canRefresh) {
          // Perhaps the token was refreshed meanwhile: one more try with getToken's answer.
          reason = "401, retrying with a fresh token";
          retryIn = 0;
        } else if (err instanceof ProblemError && err.status !== 429 && err.status < 500) {
          return end(err);
        } else {
          reason = err instanceof Error ? err.message : String(err);
          if (err instanceof ProblemError) retryIn = err.retryAfterMs;
        }
      }
      if (stopped) return;
      const inMs = retryIn ?? Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(failures++, 5));
      status({ state: "retrying", reason, inMs });
      await sleep(inMs, stop.signal).catch(() => {});
    }
  }

  async function read(res: Response, live: AbortController): Promise<Ending | "silent"> {
    const parser = new SseParser();
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    // A path that goes quiet without closing (a NAT or Wi-Fi change) never ends the read: heartbeats must keep coming.
    let heard = Date.now();
    let silent = false;
    const watchdog = setInterval(() => {
      if (Date.now() - heard < idleMs) return;
      silent = true;
      live.abort();
    }, Math.min(idleMs, 5_000));
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "ended";
        heard = Date.now();
        for (const e of parser.push(value)) {
          if (e.event === "overflow" || e.event === "expired" || e.event === "shutdown") return e.event;
          if (e.event !== "message") continue;
          const envelope = JSON.parse(e.data) as Omit<SubscriptionEvent<T>, "id">;
          try {
            await options.onEvent({ ...envelope, id: e.id });
          } catch (err) {
            reportError(err);
          }
          // The cursor moves once the consumer has had the event.
          if (e.id !== undefined) cursor = e.id;
          heard = Date.now();
          if (live.signal.aborted) return silent ? "silent" : "ended";
        }
      }
    } catch (err) {
      if (silent && !stopped) return "silent";
      throw err;
    } finally {
      clearInterval(watchdog);
      reader.cancel().catch(() => {});
    }
  }

  if (options.signal?.aborted) end();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  if (!stopped) void run().catch((err) => end(err instanceof ProblemError ? err : undefined));
  return {
    get cursor() {
      return cursor;
    },
    closed,
    close: () => end(),
  };
}
