/**
 * Notices a NATS server that stopped answering while its TCP connection stays
 * open (a frozen or overloaded process): nats.js's own pings take two missed
 * intervals (20 s and more) to give up, and meanwhile every publish would be
 * buffered and answered as accepted. A small ping every half second whose
 * answer is late by more than the stall timeout, while nothing else arrives
 * either, marks the connection stalled. (A pong can also be late because the
 * gateway is busy reading a flood of messages; then bytes keep arriving and the
 * server is plainly alive.)
 */
import type { Logger } from "../logger.js";

/** How often the server is pinged, in ms. */
export const PROBE_INTERVAL_MS = 500;

/** What `Liveness` needs. */
export interface LivenessOptions {
  /** Sends a ping and resolves on its pong; undefined while disconnected. */
  ping: () => Promise<void> | undefined;
  /** A ping unanswered this long, with nothing received meanwhile, marks the server stalled, in ms. */
  stallTimeoutMs: number;
  /** Bytes received from the server so far (nats.js's stats().inBytes). */
  received: () => number;
  now: () => number;
  logger: Logger;
}

/** Tracks whether the connected server answers pings in time. */
export class Liveness {
  #sentAt: number | undefined;
  /** Last time the received byte count moved while a ping was out. */
  #progressAt = 0;
  #bytes = 0;
  #stalledAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LivenessOptions) {}

  /** Starts probing; idempotent. */
  start(): void {
    this.#timer ??= setInterval(() => this.tick(), PROBE_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** True while a ping has gone unanswered past the stall timeout. */
  get stalled(): boolean {
    return this.#stalledAt !== undefined;
  }

  /** Milliseconds the oldest unanswered ping has waited (0 when none). */
  waitingMs(): number {
    return this.#sentAt === undefined ? 0 : this.opts.now() - this.#sentAt;
  }

  /** Forgets an outstanding ping: the connection it was sent on is gone. */
  reset(): void {
    this.#sentAt = undefined;
    this.#stalledAt = undefined;
  }

  /** One probe step: sends a ping, or judges the one outstanding. */
  tick(): void {
    if (this.#sentAt !== undefined) {
      const bytes = this.opts.received();
      if (bytes !== this.#bytes) {
        this.#bytes = bytes;
        this.#progressAt = this.opts.now();
      }
      const silentMs = this.opts.now() - Math.max(this.#sentAt, this.#progressAt);
      if (this.#stalledAt === undefined && silentMs > this.opts.stallTimeoutMs) {
        this.#stalledAt = this.opts.now();
        this.opts.logger.warn("NATS stopped answering; refusing publishes until it does", { waitedMs: this.waitingMs() });
      }
      return;
    }
    const pong = this.opts.ping();
    if (!pong) return;
    const sentAt = (this.#sentAt = this.opts.now());
    this.#bytes = this.opts.received();
    pong.then(
      () => {
        if (this.#sentAt !== sentAt) return;
        if (this.#stalledAt !== undefined) this.opts.logger.info("NATS answering again", { stalledMs: this.opts.now() - this.#stalledAt });
        this.reset();
      },
      // A disconnect rejects the ping; the connection's status handling takes over.
      () => this.#sentAt === sentAt && this.reset(),
    );
  }
}
