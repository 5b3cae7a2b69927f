/**
 * Checking a user's password against its scrypt hash (`passwords.ts`) without
 * letting the check become a timing oracle, a CPU sink or a thread-pool jam:
 * unknown users cost a full hash too (a dummy with the same parameters), a
 * credential verified from an address is remembered briefly for that address,
 * so a busy client pays one scrypt per `DEFAULT_PASSWORD_CACHE_MS` rather than
 * per request, and at most
 * `MAX_CONCURRENT_CHECKS` run at once with a bounded queue behind them.
 */
import { createHmac, randomBytes } from "node:crypto";
import { AuthBusyError } from "../errors.js";
import type { Attempt } from "./password-attempts.js";
import { verifyPassword, type PasswordHash } from "./passwords.js";
import { addressKey } from "./rate-limit.js";

/** How long a verified user and password are taken without another scrypt, in ms. */
export const DEFAULT_PASSWORD_CACHE_MS = 60_000;
/** Verified credentials remembered at once; the oldest is forgotten first. */
export const MAX_CACHED_PASSWORDS = 10_000;
/**
 * How long a refused user and password are refused without another scrypt, in
 * ms: one request checked twice (the Worker asks before it connects to NATS,
 * then the app) costs one hash, and a client retrying a wrong password in a
 * loop costs one per second.
 */
export const REFUSED_CACHE_MS = 1_000;
/**
 * scrypt checks running at once. Each takes a libuv pool thread (4 by default,
 * shared with file and DNS work) and ~16 MiB for tens of ms.
 */
export const MAX_CONCURRENT_CHECKS = 2;
/** Checks waiting for a turn; past that, 503 with Retry-After. */
export const MAX_WAITING_CHECKS = 256;

/** What stands before a check: `begin` reserves a hash (or throws 429), `remembered` lets an answer already known through (or throws the same 429). */
export interface CheckGuard {
  begin(): Attempt;
  remembered(): void;
}

/** A client that signs in with a user name and password. */
export interface PasswordEntry<T> {
  user: string;
  hash: PasswordHash;
  client: T;
}

/** Options for `PasswordCheck`. */
export interface PasswordCheckOptions {
  now?: () => number;
  cacheMs?: number;
}

/** Verifies user names and passwords for one auth config (a new config makes a new one, and a new cache). */
export class PasswordCheck<T> {
  readonly #byUser = new Map<string, PasswordEntry<T>>();
  readonly #dummy: PasswordHash;
  // Keyed by an HMAC under a key of this process only: the cache holds no fast hash of a password.
  readonly #key = randomBytes(32);
  readonly #verified = new Map<string, { client: T; until: number }>();
  readonly #refused = new Map<string, number>();
  readonly #pending = new Map<string, Promise<T | undefined>>();
  readonly #now: () => number;
  readonly #cacheMs: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(entries: PasswordEntry<T>[], { now = Date.now, cacheMs = DEFAULT_PASSWORD_CACHE_MS }: PasswordCheckOptions = {}) {
    for (const e of entries) this.#byUser.set(e.user.normalize("NFC"), e);
    // An unknown user is checked against a hash as costly as the costliest client's, so no
    // user answers slower than a user who does not exist (`mixedParameters` tells the rest).
    const like = entries.reduce((a, b) => (cost(b.hash) > cost(a.hash) ? b : a)).hash;
    this.#dummy = { ...like, salt: randomBytes(like.salt.length), key: randomBytes(like.key.length) };
    this.#now = now;
    this.#cacheMs = cacheMs;
  }

  /** True when the clients' hashes differ in scrypt parameters: the cheaper ones answer faster, which tells they exist. */
  get mixedParameters(): boolean {
    return new Set([...this.#byUser.values()].map((e) => `${e.hash.cost},${e.hash.block},${e.hash.parallel},${e.hash.key.length}`)).size > 1;
  }

  #id(address: string, user: string, password: string): string {
    return createHmac("sha256", this.#key).update(address).update("\0").update(user.normalize("NFC")).update("\0").update(password.normalize("NFC")).digest("base64");
  }

  /**
   * The client `user` names when `password` is its password; undefined otherwise.
   * Names and passwords compare in NFC. A credential verified from the same
   * address (`addressKey`) within the cache time is taken without a hash;
   * anything else calls `guard.begin` first (which reserves the check or throws
   * 429). Either way a spent budget refuses right and wrong passwords alike
   * (`guard.remembered` for those that need no hash). Checks of one credential
   * from one address at once share one hash.
   */
  async verify(user: string, password: string, remote: string | undefined, guard: CheckGuard): Promise<T | undefined> {
    const id = this.#id(addressKey(remote), user, password);
    const now = this.#now();
    const hit = this.#verified.get(id);
    if (hit && hit.until > now) {
      guard.remembered();
      return hit.client;
    }
    if (hit) this.#verified.delete(id);
    const refusedUntil = this.#refused.get(id);
    if (refusedUntil !== undefined && refusedUntil > now) {
      guard.remembered();
      return undefined;
    }
    const pending = this.#pending.get(id);
    if (pending) return pending;
    const attempt = guard.begin();
    const check = this.#check(id, user, password, attempt);
    this.#pending.set(id, check);
    return check;
  }

  async #check(id: string, user: string, password: string, attempt: Attempt): Promise<T | undefined> {
    try {
      const entry = this.#byUser.get(user.normalize("NFC"));
      const ok = await this.#limited(() => verifyPassword(password, entry?.hash ?? this.#dummy));
      if (!entry || !ok) {
        remember(this.#refused, id, this.#now() + REFUSED_CACHE_MS);
        return undefined;
      }
      attempt.succeeded();
      remember(this.#verified, id, { client: entry.client, until: this.#now() + this.#cacheMs });
      return entry.client;
    } catch (err) {
      // A check that never ran (503: the queue is full) is no failed sign-in.
      attempt.refund();
      throw err;
    } finally {
      attempt.release();
      this.#pending.delete(id);
    }
  }

  async #limited<R>(check: () => Promise<R>): Promise<R> {
    if (this.#running >= MAX_CONCURRENT_CHECKS) {
      if (this.#waiting.length >= MAX_WAITING_CHECKS) throw new AuthBusyError(`${MAX_WAITING_CHECKS} password checks are already waiting; retry shortly`);
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await check();
    } finally {
      // The slot passes straight to the next waiter, so the count stays right.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/** Sets `id` in a bounded map, forgetting the oldest entry when full. */
function remember<V>(map: Map<string, V>, id: string, value: V): void {
  map.delete(id);
  if (map.size >= MAX_CACHED_PASSWORDS) map.delete(map.keys().next().value!);
  map.set(id, value);
}

/** Relative work of one check with these parameters. */
const cost = (h: PasswordHash) => h.cost * h.block * h.parallel * h.key.length;
