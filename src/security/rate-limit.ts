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

/** Buckets kept at most; past that the oldest is forgotten, so keys a caller makes up cannot grow memory without bound. */
export const MAX_BUCKETS = 100_000;

/** Token buckets keyed by client. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {}

  /** What taking `cost` tokens from `key` would give, without taking them (or remembering `key`). */
  peek(key: string, cost = 1): Take {
    const b = this.#buckets.get(key);
    const tokens = b ? Math.min(this.burst, b.tokens + ((this.now() - b.at) / 1000) * this.perSecond) : this.burst;
    return tokens >= cost ? { ok: true, remaining: Math.floor(tokens - cost) } : { ok: false, retryAfterMs: Math.ceil(((cost - tokens) / this.perSecond) * 1000) };
  }

  /** Takes `cost` tokens from `key`'s bucket. */
  take(key: string, cost = 1): Take {
    const t = this.now();
    this.#sweep(t);
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.maxBuckets) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: this.burst, at: t };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
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
 * an IPv4 address written as IPv6 (`::ffff:1.2.3.4`, `::ffff:0:1.2.3.4`,
 * `64:ff9b::1.2.3.4`, `::1.2.3.4`, in any spelling) is its IPv4 address. Anything unparsable is its own key, lowercased.
 */
export function addressKey(remote: string | undefined): string {
  if (remote === undefined) return "local";
  if (!remote.includes(":")) return remote;
  const address = remote.toLowerCase().replace(/%.*$/, "");
  const groups = ipv6Groups(address);
  if (!groups) return address;
  // ::ffff:0:0/96 (mapped), ::ffff:0:0:0/96 (translated), 64:ff9b::/96 (NAT64) and the old
  // IPv4-compatible ::a.b.c.d (the high half non-zero, so ::1 stays itself).
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  const translated = zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  const compatible = zeros(0, 6) && groups[6] !== 0;
  if (mapped || translated || nat64 || compatible) return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail is the last two); undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  // A dotted IPv4 part may only end the address.
  const parse = (part: string, last: boolean): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (const [i, piece] of pieces.entries()) {
      const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(piece);
      if (v4 && last && i === pieces.length - 1) {
        const b = v4.slice(1).map(Number);
        if (b.some((x) => x > 255)) return undefined;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) out.push(parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = parse(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parse(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : undefined;
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
