/** A WebSocket test client (the `ws` package) that queues incoming JSON frames behind `next()`. */
import WebSocket from "ws";

/** A connected client. */
export interface WsClient {
  ws: WebSocket;
  frames: Record<string, any>[];
  /** Sends a frame (objects are JSON-encoded). */
  send(frame: unknown): void;
  /** Resolves with the first frame (after those already consumed) matching `pred`. */
  next(pred?: (f: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens a socket to `url` (ws://...). */
export async function wsClient(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  const ws = new WebSocket(url, { headers });
  const frames: Record<string, any>[] = [];
  let consumed = 0;
  const listeners = new Set<() => void>();
  ws.on("message", (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const l of listeners) l();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    next(pred = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          while (consumed < frames.length) {
            const f = frames[consumed++]!;
            if (pred(f)) {
              listeners.delete(check);
              clearTimeout(timer);
              resolve(f);
              return;
            }
          }
        };
        const timer = setTimeout(() => (listeners.delete(check), reject(new Error(`no matching frame; got ${JSON.stringify(frames.slice(-3))}`))), timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close: () => ws.close(),
  };
}
