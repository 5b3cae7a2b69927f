/**
 * Where an SSE session writes, so the session logic does not depend on one
 * runtime's streaming API: Hono's streaming helper everywhere, or a runtime's
 * own direct output where it has one (Node: src/node/sse-output.ts).
 */
import type { Context } from "hono";
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

/** A runtime's direct output for this request's response, or undefined to stream through Hono. */
export type SseOutputFor = (c: Context) => SseOutput | undefined;
