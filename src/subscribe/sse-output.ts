/**
 * Where an SSE session writes, so the session logic does not depend on one
 * runtime's streaming API. Today every runtime goes through Hono's streaming
 * helper. (Writing straight to Node's ServerResponse would skip two web
 * streams per client, but @hono/node-server's cached-response path ignores
 * x-hono-already-sent once middleware has touched c.res, e.g. CORS.)
 */
import type { SSEStreamingApi } from "hono/streaming";

/** A byte sink for one SSE client. */
export interface SseOutput {
  /** Writes a chunk; resolves when more may be written. */
  write(chunk: string): Promise<void>;
  /** True once the client is gone. */
  readonly gone: boolean;
  /** Runs `fn` once when the client goes away. */
  onGone(fn: () => void): void;
  /** Ends the response normally. */
  end(): void;
  /** Drops the connection (a client that stopped reading). */
  abort(): void;
}

/** Writes through Hono's SSE stream (portable fallback). */
export function honoOutput(stream: SSEStreamingApi): SseOutput {
  return {
    get gone() {
      return stream.aborted;
    },
    write: async (chunk) => void (await stream.write(chunk)),
    onGone: (fn) => stream.onAbort(fn),
    end: () => void stream.close(),
    abort: () => stream.abort(),
  };
}
