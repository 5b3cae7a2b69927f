/**
 * SSE clients for tests: `sseClient` uses the `eventsource` package (what a
 * Node service would use, reconnects and sends Last-Event-ID like a browser);
 * `rawSse` reads the byte stream itself, to check exact framing.
 */
import { EventSource } from "eventsource";
import { afterEach } from "vitest";

/** A received event. */
export interface SseEvent {
  type: string;
  id: string;
  data: string;
}

/** An EventSource with its events collected. */
export interface SseClient {
  es: EventSource;
  events: SseEvent[];
  /** Parsed `data` of the `message` events. */
  envelopes(): Record<string, any>[];
  /** Resolves once `n` events (of any type) have arrived. */
  next(n: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the connection is open. */
  opened: Promise<void>;
  close(): void;
}

/** Opens an EventSource; `headers` are sent on every (re)connection. */
export function sseClient(url: string, headers: Record<string, string> = {}, extraEvents: string[] = ["overflow", "expired", "shutdown"]): SseClient {
  const es = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
  });
  const events: SseEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const onEvent = (e: MessageEvent) => {
    events.push({ type: e.type, id: e.lastEventId, data: e.data });
    for (const w of [...waiters]) if (events.length >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  es.addEventListener("message", onEvent);
  for (const t of extraEvents) es.addEventListener(t, onEvent);
  const opened = new Promise<void>((resolve, reject) => {
    es.addEventListener("open", () => resolve(), { once: true });
    es.addEventListener("error", (e) => reject(new Error(`EventSource error: ${(e as { message?: string }).message ?? ""}`)), { once: true });
  });
  return {
    es,
    events,
    envelopes: () => events.filter((e) => e.type === "message").map((e) => JSON.parse(e.data)),
    opened,
    next(n, timeoutMs = 5_000) {
      if (events.length >= n) return Promise.resolve(events);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${events.length}/${n} SSE events`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(events)) });
      });
    },
    close: () => es.close(),
  };
}

/** A raw SSE reader over fetch: text so far, and a wait for a substring. */
export async function rawSse(url: string, init: RequestInit = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal });
  let text = "";
  const listeners = new Set<() => void>();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        for (const l of listeners) l();
      }
    } catch {
      // aborted
    }
    for (const l of listeners) l();
  })();
  return {
    res,
    text: () => text,
    /** Resolves when the stream ended. */
    ended: done,
    /** Resolves once `predicate(text)` holds. */
    until(predicate: (t: string) => boolean, timeoutMs = 5_000): Promise<string> {
      if (predicate(text)) return Promise.resolve(text);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => (listeners.delete(check), reject(new Error(`stream text never matched; got:\n${text.slice(-500)}`))), timeoutMs);
        const check = () => {
          if (predicate(text)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(text);
          }
        };
        listeners.add(check);
      });
    },
    close: () => controller.abort(),
  };
}

/** Opens SSE subscriptions on the gateway at `gatewayUrl()` (query after `/v1/subscribe?`), each closed after its test. */
export function useSseClients(gatewayUrl: () => string): (query: string, headers?: Record<string, string>) => SseClient {
  const clients: SseClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  return (query, headers = {}) => {
    const c = sseClient(`${gatewayUrl()}/v1/subscribe?${query}`, headers);
    clients.push(c);
    return c;
  };
}
