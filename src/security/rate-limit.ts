/**
 * Per-client token buckets (`rateLimit.perSecond`, `rateLimit.burst`) and
 * per-client caps on open streams and subscriptions (`limits`). In memory per replica: a client spread
 * over N replicas gets up to N times the rate, which operators size for.
 */

import type { Principal } from "./auth.js";
import { RateLimitedError } from "../errors.js";

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

  /** Gives back `cost` tokens taken for something that turned out not to count (a password that was right). */
  refund(key: string, cost = 1): void {
    const b = this.#buckets.get(key);
    if (b) b.tokens = Math.min(this.burst, b.tokens + cost);
  }

  #sweep(t: number): void {
    if (t - this.#lastSweep < SWEEP_EVERY) return;
    this.#lastSweep = t;
    for (const [k, b] of this.#buckets) if (t - b.at > IDLE_FORGET_MS) this.#buckets.delete(k);
  }
}

/** Counts what each client holds open (streams, subscriptions) against a cap. */
export class ClientSlots {
  readonly #open = new Map<string, number>();

  constructor(
    readonly max: number,
    /** What is counted, for the 429's detail: "concurrent streams", "subscriptions". */
    readonly what = "concurrent streams",
  ) {}

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

  /** Slots held by `key`. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}

/**
 * The key an address's limits count against. An IPv6 host usually holds a whole
 * /64 (privacy addresses rotate inside it), so one /64 is one key, not 2^64;
 * an IPv4-mapped address is its IPv4 address.
 */
export function addressKey(remote: string | undefined): string {
  if (remote === undefined) return "local";
  if (!remote.includes(":")) return remote;
  const address = remote.toLowerCase().replace(/%.*$/, "");
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  const [head, tail, ...more] = address.split("::");
  const parts = (s: string | undefined) => (s ? s.split(":") : []);
  const front = parts(head);
  const back = parts(tail);
  // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first four groups matter here.
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill("0"), ...back];
  const prefix = groups.slice(0, 4);
  if (more.length > 0 || prefix.length < 4 || !prefix.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return address;
  return `${prefix.map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

/** The key of an address's refused tokens (passwords have budgets of their own: `password-attempts.ts`). */
export const failureKey = (remote: string | undefined) => `auth-failure:${addressKey(remote)}`;

/** The key limits count against: the client (by kind and name), or its address when anonymous. */
export function limitKey(principal: Principal, remote: string | undefined): string {
  if (principal.kind === "anonymous") return `ip:${addressKey(remote)}`;
  // A configured client is one client whether it sent its token or its password; a JWT whose
  // sub equals a configured client's name has a budget of its own.
  return `${principal.kind === "password" ? "token" : principal.kind}:${principal.name}`;
}

/** Takes one request token for `key`; 429 when spent. Returns the tokens left (undefined without a limiter). */
export function chargeRequest(limiter: TokenBuckets | undefined, key: string): number | undefined {
  if (!limiter) return undefined;
  const taken = limiter.take(key);
  if (!taken.ok) {
    throw new RateLimitedError(`rate limit of ${limiter.perSecond}/s (burst ${limiter.burst}) exceeded`, limiter.burst, Math.ceil(taken.retryAfterMs / 1000));
  }
  return taken.remaining;
}

/** Seconds a client refused a slot is told to wait. */
const SLOT_RETRY_AFTER_S = 5;

/** Claims one of `key`'s slots (429 when all are taken); returns its release function. */
export function claimSlot(slots: ClientSlots, key: string): () => void {
  const release = slots.acquire(key);
  if (!release) throw new RateLimitedError(`at most ${slots.max} ${slots.what} per client`, slots.max, SLOT_RETRY_AFTER_S);
  return release;
}
