/**
 * A WebSocket to the gateway (`/v1/ws`) that keeps its subscriptions across
 * connections: each subscription has a sid and the cursor of its last message,
 * and after a reconnect it is subscribed again from there (or, before its first
 * message, from the gateway's time it went live), so subjects a stream captures
 * arrive with no gap and no duplicate. Publishes and requests are matched to
 * their answers by id, and wait for the socket to open; keepalive pings notice
 * a dead path. Messages are handed to the consumer one at a time; when more than
 * `maxQueued` wait, the socket is let go and reopened once the consumer has
 * caught up (a browser WebSocket cannot pause).
 */
import type { Client, PublishResult, Reply } from "./client.js";
import type { Envelope } from "./envelope.js";
import { report, reportError } from "./report.js";
import { errorFor, ProblemError, UnauthorizedError, type Problem } from "./problem.js";

/** A message delivered to a subscription. */
export interface SocketMessage<T = unknown> extends Envelope<T> {
  /** Resume after this message with it; undefined for core NATS messages. */
  cursor?: string;
}

/** Where a socket is. */
export type SocketStatus =
  | { state: "connecting" }
  | { state: "open" }
  | { state: "retrying"; reason: string; inMs: number }
  /** More than `maxQueued` messages wait for the consumer: the socket is let go, and reopened once they are handled. */
  | { state: "behind"; queued: number }
  /** Ended: by `close()`, or with `error` when the gateway refuses the credentials for good (a 401 a fresh token did not cure). */
  | { state: "closed"; error?: ProblemError };

/** Options of `socket()`. */
export interface SocketOptions {
  onStatus?(status: SocketStatus): void;
  /** A subscription the gateway refused (403, 400): it is dropped. */
  onSubscriptionError?(sid: string, error: ProblemError): void;
  /** How often to ping, in ms (default `DEFAULT_PING_MS`); a socket silent for two intervals is reopened. */
  pingMs?: number;
  /** Messages waiting for the consumer before the socket stops reading (default `DEFAULT_MAX_QUEUED`). */
  maxQueued?: number;
}

/** Where a new subscription starts; a cursor wins, then `since`, then `deliver` (default: new messages). */
export interface SocketSubscribeOptions {
  queue?: string;
  lastEventId?: string;
  since?: string | Date;
  deliver?: "all" | "last" | "new";
}

/** A subscription on a socket. */
export interface SocketSubscription {
  readonly sid: string;
  /** The last handled message's cursor. */
  readonly cursor: string | undefined;
  unsubscribe(): void;
}

/** An open (or reopening) socket. */
export interface Socket {
  /**
   * Subscribes. `onMessage` is called once per message, in order, the next once it
   * has returned; what it throws is reported as an event listener's error and the
   * message counts as handled.
   */
  subscribe<T = unknown>(subject: string, onMessage: (m: SocketMessage<T>) => void | Promise<void>, options?: SocketSubscribeOptions): SocketSubscription;
  /** Publishes (sent once the socket is open); resolves with the gateway's ack. Rejects with a `ProblemError`, or `SocketClosedError` when the socket closed after sending it (the outcome is then unknown). */
  publish(subject: string, data: unknown, options?: { headers?: Record<string, string> }): Promise<PublishResult & { status: number }>;
  request(subject: string, data: unknown, options?: { timeoutMs?: number }): Promise<Reply>;
  close(): void;
  /** Resolves once the socket has ended: after `close()`, or with the refusal that ended it. */
  readonly closed: Promise<ProblemError | undefined>;
}

/** The socket closed before a publish or request was answered: it may or may not have happened. */
export class SocketClosedError extends Error {
  override name = "SocketClosedError";
}

/** Keepalive ping interval, in ms; a socket silent for two of them is reopened. */
export const DEFAULT_PING_MS = 15_000;
/** Messages waiting for the consumer before the socket stops reading. */
export const DEFAULT_MAX_QUEUED = 1_000;
const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;
/** Longest wait for the HTTP API's view of the credentials after a refused upgrade, in ms. */
const CHECK_TIMEOUT_MS = 10_000;
/** Taken off a subscription's start time when it resumes by time: clocks are compared over one round trip. */
const SINCE_MARGIN_MS = 1_000;

interface Sub {
  sid: string;
  subject: string;
  queue: string | undefined;
  /** The last handled message's cursor (what the user keeps). */
  cursor: string | undefined;
  /** The last received message's cursor: where a new socket resumes (the queue keeps the rest). */
  received: string | undefined;
  since: string | undefined;
  deliver: string | undefined;
  /** When it went live, on this machine's clock, if it started with new messages and has had none. */
  liveAt: number | undefined;
  onMessage: (m: SocketMessage<never>) => void | Promise<void>;
}

interface Pending {
  resolve(frame: Record<string, unknown>): void;
  reject(err: Error): void;
}

/** Opens a socket (see `Client.socket`). */
export function openSocket(client: Client, WS: typeof WebSocket, options: SocketOptions): Socket {
  const pingMs = options.pingMs ?? DEFAULT_PING_MS;
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const subs = new Map<string, Sub>();
  /** Calls sent on the open socket, by id. */
  const pending = new Map<string, Pending>();
  /** Calls waiting for a socket to open, in order. */
  const outbox: { text: string; id: string; pending: Pending }[] = [];
  const queue: { sub: Sub; message: SocketMessage }[] = [];
  let ws: WebSocket | undefined;
  let nextId = 0;
  let nextSid = 0;
  let stopped = false;
  let failures = 0;
  let unauthorized = 0;
  let draining: Promise<void> | undefined;
  let paused = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The gateway's clock minus this machine's, in ms, from the last pong (0 until one came). */
  let clockOffset = 0;
  let ending: ProblemError | undefined;
  let finish!: (error: ProblemError | undefined) => void;
  const closed = new Promise<ProblemError | undefined>((resolve) => (finish = resolve));
  const status = (s: SocketStatus) => report(options.onStatus, s);
  const send = (text: string) => {
    if (ws?.readyState === WS.OPEN) ws.send(text);
  };

  function subFrame(s: Sub): string {
    // Resuming before its first message: from when it went live, on the gateway's clock.
    const since = s.received === undefined && s.liveAt !== undefined ? new Date(s.liveAt + clockOffset - SINCE_MARGIN_MS).toISOString() : s.since;
    const start = s.received !== undefined ? { lastEventId: s.received } : since !== undefined ? { since } : s.deliver !== undefined ? { deliver: s.deliver } : {};
    return JSON.stringify({ op: "sub", sid: s.sid, subject: s.subject, ...(s.queue ? { queue: s.queue } : {}), ...start });
  }

  /** Sends a sub frame on the open socket; a fresh start from new messages is remembered as a time to resume from. */
  function sendSub(s: Sub): void {
    if (ws?.readyState !== WS.OPEN) return;
    send(subFrame(s));
    if (s.received === undefined && s.since === undefined && s.liveAt === undefined && !s.queue && (s.deliver === undefined || s.deliver === "new")) s.liveAt = Date.now();
  }

  const failPending = (why: string) => {
    for (const p of pending.values()) p.reject(new SocketClosedError(why));
    pending.clear();
  };

  async function connect(): Promise<void> {
    retryTimer = undefined;
    if (stopped || paused) return;
    status({ state: "connecting" });
    const url = client.resolve("/v1/ws");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let token: string | undefined;
    try {
      token = await client.token();
    } catch (err) {
      return retryIn(backoff(), `getToken failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (stopped || paused) return;
    // A browser's WebSocket sends no Authorization header: the token goes in the query (never a password).
    if (token) url.searchParams.set("access_token", token);
    const socket = new WS(url);
    ws = socket;
    let opened = false;
    let lastHeard = Date.now();
    const ping = setInterval(() => {
      // A dead path may never finish a close handshake: let the socket go and open another now.
      if (Date.now() - lastHeard > 2 * pingMs) return abandon(socket, "no pong", () => retryIn(MIN_RETRY_MS, "no pong"));
      send(PING);
    }, pingMs);
    const detach = () => clearInterval(ping);
    detachers.set(socket, detach);
    socket.onopen = () => {
      if (ws !== socket) return;
      opened = true;
      failures = 0;
      unauthorized = 0;
      lastHeard = Date.now();
      status({ state: "open" });
      // First a ping: its pong tells the gateway's clock, for subscriptions that resume by time.
      send(PING);
      for (const s of subs.values()) sendSub(s);
      for (const call of outbox.splice(0)) {
        pending.set(call.id, call.pending);
        send(call.text);
      }
    };
    // A socket let go of (the consumer fell behind, or no pong) is not read any further:
    // its messages come again from the cursors on the next one, in order.
    socket.onmessage = (e) => {
      if (ws !== socket) return;
      lastHeard = Date.now();
      onFrame(JSON.parse(String(e.data)) as Record<string, unknown>);
    };
    // A close always follows; an error without a listener would be thrown by Node's `ws`.
    socket.onerror = () => {};
    socket.onclose = (e) => {
      detach();
      detachers.delete(socket);
      if (ws !== socket) return;
      ws = undefined;
      failPending(`the socket closed (${e.code}${e.reason ? ` ${e.reason}` : ""}) before the gateway answered`);
      if (stopped) return finish(ending);
      void reopen(opened, `closed ${e.code}${e.reason ? `: ${e.reason}` : ""}`, e.code);
    };
  }

  /** Each live socket's ping timer, so a socket let go of stops pinging at once. */
  const detachers = new Map<WebSocket, () => void>();

  /** Stops using `socket` now, without waiting for its close handshake; `then` decides what comes next. */
  function abandon(socket: WebSocket, why: string, then: () => void): void {
    detachers.get(socket)?.();
    detachers.delete(socket);
    if (ws === socket) ws = undefined;
    failPending(`the socket was let go (${why}) before the gateway answered`);
    socket.close(1000, why);
    then();
  }

  const backoff = () => Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(failures++, 5));

  async function reopen(opened: boolean, reason: string, code: number): Promise<void> {
    if (!opened) {
      // A browser's WebSocket never sees a refused upgrade's status: the HTTP API, asked
      // with the same credentials, tells a 401 (give up, or once with a fresh token) from
      // a gateway that is down, busy or being restarted (retry).
      const refusal = await credentialsRefused();
      if (stopped) return;
      if (refusal && (unauthorized++ > 0 || !client.canRefresh)) return end(refusal);
      if (refusal) return retryIn(0, "401, retrying with a fresh token");
    }
    retryIn(opened && code !== 1008 ? MIN_RETRY_MS : backoff(), reason);
  }

  function retryIn(inMs: number, reason: string): void {
    if (stopped) return;
    status({ state: "retrying", reason, inMs });
    retryTimer = setTimeout(() => void connect(), inMs);
  }

  /** The 401 the gateway gives these credentials now, or undefined (they pass, or it cannot say in time). */
  async function credentialsRefused(): Promise<ProblemError | undefined> {
    try {
      await client.fetch("/v1/me", { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      return undefined;
    } catch (err) {
      return err instanceof UnauthorizedError ? err : undefined;
    }
  }

  /** Ends the socket for good: by `close()`, or with the refusal that ended it. */
  function end(error?: ProblemError): void {
    if (stopped) return;
    stopped = true;
    ending = error;
    queue.length = 0;
    clearTimeout(retryTimer);
    for (const call of outbox.splice(0)) call.pending.reject(new SocketClosedError("the socket closed before this was sent"));
    status(error ? { state: "closed", error } : { state: "closed" });
    if (ws) ws.close(1000, "closed by the client");
    else finish(error);
  }

  /** Lets the socket go until the consumer has caught up; the cursors say where to resume. */
  function pause(): void {
    paused = true;
    status({ state: "behind", queued: queue.length });
    if (ws) abandon(ws, "consumer behind", () => {});
  }

  function onFrame(f: Record<string, unknown>): void {
    switch (f.op) {
      case "msg": {
        const sub = subs.get(String(f.sid));
        if (!sub) return;
        const { op: _op, sid: _sid, ...message } = f;
        if (typeof message.cursor === "string") sub.received = message.cursor;
        queue.push({ sub, message: message as unknown as SocketMessage });
        if (queue.length > maxQueued && !paused) pause();
        draining ??= drain();
        return;
      }
      case "pong": {
        const time = typeof f.time === "string" ? Date.parse(f.time) : Number.NaN;
        if (!Number.isNaN(time)) clockOffset = time - Date.now();
        return;
      }
      case "ack":
      case "reply":
        return settle(f, undefined);
      case "err": {
        const error = errorFor(f as unknown as Problem);
        if (f.id !== undefined) return settle(f, error);
        const sid = String(f.sid);
        if (f.sid !== undefined && subs.delete(sid)) report((e: ProblemError) => options.onSubscriptionError?.(sid, e), error);
        return;
      }
    }
  }

  function settle(f: Record<string, unknown>, error: ProblemError | undefined): void {
    const p = pending.get(String(f.id));
    if (!p) return;
    pending.delete(String(f.id));
    if (error) p.reject(error);
    else p.resolve(f);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const { sub, message } = queue.shift()!;
      // A message of a subscription since dropped is not handed over.
      if (subs.get(sub.sid) !== sub) continue;
      try {
        await sub.onMessage(message as SocketMessage<never>);
      } catch (err) {
        reportError(err);
      }
      if (message.cursor !== undefined) sub.cursor = message.cursor;
    }
    draining = undefined;
    if (paused && !stopped) {
      paused = false;
      void connect();
    }
  }

  function call(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (stopped) return Promise.reject(new SocketClosedError("the socket is closed"));
    const id = String(++nextId);
    let text: string;
    try {
      text = JSON.stringify({ ...frame, id });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const p = { resolve, reject };
      if (ws?.readyState === WS.OPEN) {
        pending.set(id, p);
        ws.send(text);
      } else outbox.push({ text, id, pending: p });
    });
  }

  void connect();
  return {
    subscribe(subject, onMessage, { queue, lastEventId, since, deliver } = {}) {
      const sub: Sub = {
        sid: String(++nextSid),
        subject,
        queue,
        cursor: lastEventId,
        received: lastEventId,
        since: since instanceof Date ? since.toISOString() : since,
        deliver,
        liveAt: undefined,
        onMessage: onMessage as Sub["onMessage"],
      };
      subs.set(sub.sid, sub);
      sendSub(sub);
      return {
        sid: sub.sid,
        get cursor() {
          return sub.cursor;
        },
        unsubscribe() {
          if (subs.delete(sub.sid)) send(JSON.stringify({ op: "unsub", sid: sub.sid }));
        },
      };
    },
    async publish(subject, data, { headers } = {}) {
      const { op: _op, id: _id, ...result } = await call({ op: "pub", subject, data, ...(headers ? { headers } : {}) });
      return result as unknown as PublishResult & { status: number };
    },
    async request(subject, data, { timeoutMs } = {}) {
      const f = await call({ op: "req", subject, data, ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}) });
      return { data: f.data, headers: (f.headers as Record<string, string> | undefined) ?? {}, status: 200 };
    },
    close: () => end(),
    closed,
  };
}

const PING = JSON.stringify({ op: "ping" });
