/**
 * Per-client token buckets (`rateLimit.perSecond`, `rateLimit.burst`) and a
 * per-client cap on concurrent streams. In memory per replica: a client spread
 * over N replicas gets up to N times the rate, which operators size for.
 */

/** Buckets idle this long are forgotten, in ms. */
const IDLE_FORGET_MS = 60_000;
/** How often idle buckets are swept, in ms. */
const SWEEP_EVERY = 10_000;

/** Outcome of taking one token. */
export type Take = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by client. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `cost` tokens from `key`'s bucket. */
  take(key: string, cost = 1): Take {
    const t = this.now();
    this.#sweep(t);
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.#buckets.set(key, b);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { ok: true, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, retryAfterMs: Math.ceil(((cost - b.tokens) / this.perSecond) * 1000) };
  }

  #sweep(t: number): void {
    if (t - this.#lastSweep < SWEEP_EVERY) return;
    this.#lastSweep = t;
    for (const [k, b] of this.#buckets) if (t - b.at > IDLE_FORGET_MS) this.#buckets.delete(k);
  }
}

/** Counts open streams per client. */
export class StreamSlots {
  readonly #open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Claims a slot; returns its release function (idempotent), or undefined when full. */
  acquire(key: string): (() => void) | undefined {
    const n = this.#open.get(key) ?? 0;
    if (n >= this.max) return undefined;
    this.#open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  /** Streams open for `key`. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}
