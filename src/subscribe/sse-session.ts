/**
 * One SSE client: a bounded queue between its feed and its socket, a heartbeat,
 * the end of the stream when its credentials expire, and cleanup that runs
 * exactly once however the stream ends (client gone, overflow, expiry,
 * shutdown).
 */
import type { Frame } from "./feed.js";
import type { SseOutput } from "./sse-output.js";
import { SSE_HEARTBEAT, sseFrame, sseRetry } from "./sse-frame.js";

/** Reconnection delay suggested to EventSource, in ms. */
export const SSE_RETRY_MS = 2_000;
/** How long the final event may take to reach a client before the stream is aborted: 5 s. */
const FINAL_WRITE_TIMEOUT_MS = 5_000;

/** What a session needs. */
export interface SessionOptions {
  heartbeatMs: number;
  maxBuffered: number;
  /** Credentials expire at this time (ms since the epoch). */
  expiresAt?: number;
  now: () => number;
  /** Called once when the session ends, with the reason. */
  onEnd: (reason: SseEndReason) => void;
}

/**
 * Why a stream ended: the client left, fell too far behind, its credentials expired, the
 * gateway is stopping, or an operator ended it (DELETE /v1/connections/{id}).
 */
export type SseEndReason = "closed" | "overflow" | "expired" | "shutdown" | "operator";

/** Pumps frames to one client. */
export class SseSession {
  readonly #queue: string[] = [];
  // Messages (not heartbeats or control frames) in the queue, and what became of the others.
  #pending = 0;
  #sent = 0;
  #dropped = 0;
  #pumping = false;
  #ended = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #done!: () => void;
  /** Resolves when the session is over (the stream may then be closed). */
  readonly finished = new Promise<void>((r) => (this.#done = r));

  constructor(
    private readonly out: SseOutput,
    private readonly opts: SessionOptions,
  ) {
    this.#queue.push(sseRetry(SSE_RETRY_MS));
    this.#heartbeat = setInterval(() => this.#enqueueControl(SSE_HEARTBEAT), opts.heartbeatMs);
    if (opts.expiresAt !== undefined) {
      // setTimeout overflows past ~24.8 days; such a token outlives any stream anyway.
      const ms = Math.min(Math.max(0, opts.expiresAt - opts.now()), 2 ** 31 - 1);
      this.#expiry = setTimeout(() => this.end("expired"), ms);
    }
    out.onGone(() => this.end("closed"));
    this.#pump();
  }

  /** Queues a frame from the feed; ends the stream with `event: overflow` when the client is too far behind. */
  readonly push = (frame: Frame): void => {
    if (this.#ended) return void this.#dropped++;
    if (this.#queue.length >= this.opts.maxBuffered) {
      this.#dropped++;
      this.end("overflow");
      return;
    }
    this.#queue.push(frame.text);
    this.#pending++;
    if (!this.#pumping) this.#pump();
  };

  #enqueueControl(frame: string): void {
    if (this.#ended) return;
    this.#queue.push(frame);
    if (!this.#pumping) this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    while (this.#queue.length > 0 && !this.out.gone) {
      // Everything queued goes out in one write: fewer chunks, fewer syscalls.
      const chunk = this.#queue.join("");
      this.#queue.length = 0;
      this.#sent += this.#pending;
      this.#pending = 0;
      await this.out.write(chunk);
    }
    this.#pumping = false;
  }

  /** Messages written to the client's connection. */
  get sent(): number {
    return this.#sent;
  }

  /** Messages dropped: queued when the stream ended, or arriving after. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Messages waiting to be written. */
  buffered(): number {
    return this.#pending;
  }

  /** Ends the session (idempotent); overflow and expiry say so in a final event. */
  end(reason: SseEndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#expiry);
    // Queued messages are dropped (the client resumes after the last id it received),
    // counted before onEnd hands the session's totals over.
    this.#dropped += this.#pending;
    this.#pending = 0;
    this.opts.onEnd(reason);
    if (reason === "closed" || this.out.gone) return this.#done();
    this.#queue.length = 0;
    // The output queues this behind any write in flight; a client that reads nothing is cut off.
    const timer = setTimeout(() => this.out.abort(), FINAL_WRITE_TIMEOUT_MS);
    // An operator's end reads as a shutdown to clients (reconnect and resume), with its own reason.
    void this.out.write(sseFrame(JSON.stringify({ reason }), { event: reason === "operator" ? "shutdown" : reason })).finally(() => {
      clearTimeout(timer);
      this.out.end();
      this.#done();
    });
  }
}
