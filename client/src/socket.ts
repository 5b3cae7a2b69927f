/**
 * A WebSocket to the gateway (`/v1/ws`) that keeps its subscriptions across
 * connections: each subscription has a sid and the cursor of its last message,
 * and after a reconnect it is subscribed again from that cursor. Publishes and
 * requests are matched to their answers by id; keepalive pings notice a dead
 * path. Messages are handed to the consumer one at a time; when more than
 * `maxQueued` wait, the socket is closed and reopened only once the consumer
 * has caught up, resuming from the cursors (a browser WebSocket cannot pause).
 */
import type { Client, PublishResult, Reply } from "./client.js";
import type { Envelope } from "./envelope.js";
import { report } from "./report.js";
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
  /** How often to ping, in ms (default `DEFAULT_PING_MS`). */
  pingMs?: number;
  /** Messages waiting for the consumer before the socket stops reading (default `DEFAULT_MAX_QUEUED`). */
  maxQueued?: number;
}

/** A subscription on a socket. */
export interface SocketSubscription {
  readonly sid: string;
  /** The last message's cursor. */
  readonly cursor: string | undefined;
  unsubscribe(): void;
}

/** An open (or reopening) socket. */
export interface Socket {
  subscribe<T = unknown>(subject: string, onMessage: (m: SocketMessage<T>) => void | Promise<void>, options?: { queue?: string; lastEventId?: string }): SocketSubscription;
  /** Publishes; resolves with the gateway's ack. Rejects with a `ProblemError`, or `SocketClosedError` when the socket closed first (the outcome is then unknown). */
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

interface Sub {
  sid: string;
  subject: string;
  queue: string | undefined;
  cursor: string | undefined;
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
  const pending = new Map<string, Pending>();
  const queue: { sub: Sub; message: SocketMessage }[] = [];
  let ws: WebSocket | undefined;
  let nextId = 0;
  let nextSid = 0;
  let stopped = false;
  let failures = 0;
  let draining: Promise<void> | undefined;
  let paused = false;
  let lastHeard = Date.now();
  let unauthorized = 0;
  let ending: ProblemError | undefined;
  let finish!: (error: ProblemError | undefined) => void;
  const closed = new Promise<ProblemError | undefined>((resolve) => (finish = resolve));
  const status = (s: SocketStatus) => report(options.onStatus, s);
  const send = (frame: object) => {
    if (ws?.readyState === WS.OPEN) ws.send(JSON.stringify(frame));
  };
  const subFrame = (s: Sub) => ({ op: "sub", sid: s.sid, subject: s.subject, ...(s.queue ? { queue: s.queue } : {}), ...(s.cursor ? { lastEventId: s.cursor } : {}) });

  const failPending = (why: string) => {
    for (const p of pending.values()) p.reject(new SocketClosedError(why));
    pending.clear();
  };

  async function connect(): Promise<void> {
    if (stopped || paused) return;
    status({ state: "connecting" });
    const url = client.resolve("/v1/ws");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    // A browser's WebSocket sends no Authorization header: the token goes in the query (never a password).
    const token = await client.token();
    if (stopped || paused) return;
    if (token) url.searchParams.set("access_token", token);
    const socket = new WS(url);
    ws = socket;
    let opened = false;
    const ping = setInterval(() => {
      if (Date.now() - lastHeard > 2 * pingMs) return socket.close(4000, "no pong");
      send({ op: "ping" });
    }, pingMs);
    socket.onopen = () => {
      if (ws !== socket) return;
      opened = true;
      failures = 0;
      unauthorized = 0;
      lastHeard = Date.now();
      status({ state: "open" });
      for (const s of subs.values()) send(subFrame(s));
    };
    // A socket let go of (the consumer fell behind) is not read any further: its
    // messages come again from the cursors on the next one, in order.
    socket.onmessage = (e) => {
      if (ws !== socket) return;
      lastHeard = Date.now();
      onFrame(JSON.parse(String(e.data)) as Record<string, unknown>);
    };
    // A close always follows; an error without a listener would be thrown by Node's `ws`.
    socket.onerror = () => {};
    socket.onclose = (e) => {
      clearInterval(ping);
      if (ws !== socket) return;
      ws = undefined;
      failPending(`the socket closed (${e.code}${e.reason ? ` ${e.reason}` : ""}) before the gateway answered`);
      if (stopped) return finish(ending);
      void reopen(opened, `closed ${e.code}${e.reason ? `: ${e.reason}` : ""}`, e.code);
    };
  }

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
    retryIn(opened && code !== 1008 ? MIN_RETRY_MS : Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(failures++, 5)), reason);
  }

  function retryIn(inMs: number, reason: string): void {
    status({ state: "retrying", reason, inMs });
    setTimeout(() => void connect(), inMs);
  }

  /** The 401 the gateway gives these credentials now, or undefined (they pass, or it cannot say). */
  async function credentialsRefused(): Promise<ProblemError | undefined> {
    try {
      await client.fetch("/v1/me");
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
    status(error ? { state: "closed", error } : { state: "closed" });
    if (ws) ws.close(1000, "closed by the client");
    else finish(error);
  }

  /** Lets the socket go until the consumer has caught up; the cursors say where to resume. */
  function pause(): void {
    paused = true;
    const behind = ws;
    ws = undefined;
    failPending("the socket was closed to let the consumer catch up before the gateway answered");
    behind?.close(1000, "consumer behind");
    status({ state: "behind", queued: queue.length });
  }

  function onFrame(f: Record<string, unknown>): void {
    switch (f.op) {
      case "msg": {
        const sub = subs.get(String(f.sid));
        if (!sub) return;
        const { op: _op, sid: _sid, ...message } = f;
        queue.push({ sub, message: message as unknown as SocketMessage });
        if (queue.length > maxQueued && !paused) pause();
        draining ??= drain();
        return;
      }
      case "ack":
      case "reply":
        return settle(f, undefined);
      case "err": {
        const error = errorFor(f as unknown as Problem);
        if (f.id !== undefined) return settle(f, error);
        if (f.sid !== undefined && subs.delete(String(f.sid))) report((e: ProblemError) => options.onSubscriptionError?.(String(f.sid), e), error);
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
      } catch {
        // The consumer's own error: the message counts as handled, as it would in an event handler.
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
    if (ws?.readyState !== WS.OPEN) return Promise.reject(new SocketClosedError("the socket is not open; retry once it is"));
    const id = String(++nextId);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      send({ ...frame, id });
    });
  }

  void connect();
  return {
    subscribe(subject, onMessage, { queue, lastEventId } = {}) {
      const sub: Sub = { sid: String(++nextSid), subject, queue, cursor: lastEventId, onMessage: onMessage as Sub["onMessage"] };
      subs.set(sub.sid, sub);
      send(subFrame(sub));
      return {
        sid: sub.sid,
        get cursor() {
          return sub.cursor;
        },
        unsubscribe() {
          if (subs.delete(sub.sid)) send({ op: "unsub", sid: sub.sid });
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
