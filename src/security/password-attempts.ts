/**
 * Limits on password checks that would run scrypt: passwords are guessable
 * where tokens are not, and each guess costs ~16 MiB and tens of ms. A check
 * reserves tokens before it hashes, so concurrent guesses cannot slip past
 * budgets charged afterwards: its address's failure budget (an IPv6 /64 is one
 * address), and — unless the user signed in from that address lately, when
 * that pair's own budget applies — the gateway's and the user name's failure budgets (a guesser spread over many
 * addresses or spraying many users) and the user's budget of checks from new
 * addresses. A right password gives the failure tokens back. At most
 * `MAX_CHECKS_PER_ADDRESS` run or wait per address.
 *
 * A password verified from the same address within the cache time needs no
 * hash (`password-check.ts`), but still meets the spent budgets a check of it
 * would be charged (`remembered`): anything a spent budget let through would
 * answer a right guess 200 and wrong ones a cheap 429, an oracle. So clients
 * sharing an address (a NAT, a /64, a proxy without `trustProxy`) share its
 * budget. A (user, address) pair that signed in lately has a failure budget of
 * its own instead of the user's and gateway's.
 */
import { createHash } from "node:crypto";
import { RateLimitedError } from "../errors.js";
import { addressKey, ClientSlots, TokenBuckets } from "./rate-limit.js";

/** A budget of failures: a burst, then `perSecond`. */
export interface FailureBudget {
  perSecond: number;
  burst: number;
}

/** Failed password checks one address may make: a burst of 10, then one a second. `rateLimit`, where stricter, tightens it. */
export const DEFAULT_PASSWORD_FAILURES: FailureBudget = { perSecond: 1, burst: 10 };
/** Failed checks of one user name from all addresses together: 20, then one every 5 s. */
export const DEFAULT_USER_FAILURES: FailureBudget = { perSecond: 0.2, burst: 20 };
/** Failed checks on the whole gateway: 100, then 10 a second (a hash runs in ~40 ms, two at once). */
export const DEFAULT_GATEWAY_FAILURES: FailureBudget = { perSecond: 10, burst: 100 };
/**
 * Checks of one user's password from addresses it has not signed in from, right or
 * wrong (never given back): 60, then one a second. One valid password cannot buy
 * unbounded scrypt time by signing in from ever new addresses.
 */
export const DEFAULT_USER_HASHES: FailureBudget = { perSecond: 1, burst: 60 };
/** How long an address a user signed in from skips the user's and the gateway's budgets, in ms. */
export const KNOWN_ADDRESS_MS = 24 * 60 * 60 * 1000;
/** (user, address) pairs remembered on the gateway; the oldest is forgotten first. */
export const MAX_KNOWN_PAIRS = 100_000;
/** Password checks one address may have running or waiting at once. */
export const MAX_CHECKS_PER_ADDRESS = 2;
/** Seconds an address at its in-flight cap is told to wait. */
const IN_FLIGHT_RETRY_S = 1;

/** One reserved check: `succeeded()` gives its failure tokens back and remembers the address for the user; `refund()` gives them back for a check that never ran; `release()` frees its slot. */
export interface Attempt {
  succeeded(): void;
  refund(): void;
  release(): void;
}

/** Options for `PasswordAttempts`: the budgets. */
export interface PasswordAttemptsOptions {
  perAddress?: FailureBudget;
  perUser?: FailureBudget;
  gateway?: FailureBudget;
  userHashes?: FailureBudget;
  now?: () => number;
}

/** One budget a check is charged against: its buckets, key, the 429's words, and whether a right password gives the token back. */
type Budget = [buckets: TokenBuckets, key: string, where: string, refundable: boolean];

/** Guards password checks per address, per user and per gateway. */
export class PasswordAttempts {
  readonly #address: TokenBuckets;
  readonly #user: TokenBuckets;
  readonly #gateway: TokenBuckets;
  readonly #hashes: TokenBuckets;
  // A known pair's own failures, at the user budget's rates: guesses there are no cheaper than elsewhere.
  readonly #pair: TokenBuckets;
  readonly #inFlight = new ClientSlots(MAX_CHECKS_PER_ADDRESS, "password checks in progress");
  // `${user digest} ${address}` -> until when the user counts as signed in from there.
  readonly #known = new Map<string, number>();
  readonly #now: () => number;

  constructor({ perAddress = DEFAULT_PASSWORD_FAILURES, perUser = DEFAULT_USER_FAILURES, gateway = DEFAULT_GATEWAY_FAILURES, userHashes = DEFAULT_USER_HASHES, now = Date.now }: PasswordAttemptsOptions = {}) {
    this.#address = new TokenBuckets(perAddress.perSecond, perAddress.burst, now);
    this.#user = new TokenBuckets(perUser.perSecond, perUser.burst, now);
    this.#gateway = new TokenBuckets(gateway.perSecond, gateway.burst, now);
    this.#hashes = new TokenBuckets(userHashes.perSecond, userHashes.burst, now);
    this.#pair = new TokenBuckets(perUser.perSecond, perUser.burst, now);
    this.#now = now;
  }

  /** The per-address budget for a gateway whose `rateLimit` is `rate`: the default, or `rate` where that is stricter. */
  static perAddress(rate: FailureBudget | undefined): FailureBudget {
    const d = DEFAULT_PASSWORD_FAILURES;
    return rate ? { perSecond: Math.min(d.perSecond, rate.perSecond), burst: Math.min(d.burst, rate.burst) } : d;
  }

  /**
   * The budgets a check of `user` from `address` is charged against. The
   * address's always; a pair the user signed in from lately its own as well;
   * any other the gateway's (first: a refused guess leaves no bucket behind for
   * a made-up name), the user's, and the user's checks from new addresses.
   */
  #budgets(address: string, userKey: string): Budget[] {
    const pair = `${userKey} ${address}`;
    const until = this.#known.get(pair);
    if (until !== undefined && until > this.#now()) return [[this.#address, address, "from this address", true], [this.#pair, pair, "for this user", true]];
    return [
      [this.#address, address, "from this address", true],
      [this.#gateway, "all", "on this gateway", true],
      [this.#user, userKey, "for this user", true],
      [this.#hashes, userKey, "for this user from new addresses", false],
    ];
  }

  #spent(where: string, buckets: TokenBuckets, retryAfterMs: number): RateLimitedError {
    return new RateLimitedError(`too many failed sign-ins ${where}; the password was not checked`, buckets.burst, Math.ceil(retryAfterMs / 1000));
  }

  /**
   * Refuses a remembered password (no hash needed) with the very 429 a check of
   * it would get where a budget it would be charged is spent: right, wrong and
   * remembered passwords then read alike, for a guesser who shares the address
   * of a signed-in client too.
   */
  remembered(remote: string | undefined, user: string): void {
    this.#peek(this.#budgets(addressKey(remote), userDigest(user)));
  }

  #peek(budgets: Budget[]): void {
    for (const [buckets, key, where] of budgets) {
      const t = buckets.peek(key);
      if (!t.ok) throw this.#spent(where, buckets, t.retryAfterMs);
    }
  }

  /**
   * Reserves a check of `user`'s password from `remote`, or throws 429 (a budget
   * spent, or too many in flight) without hashing. An address the user signed in
   * from lately pays its own budgets only, so guesses at the user from elsewhere
   * do not lock its running clients out.
   */
  begin(remote: string | undefined, user: string): Attempt {
    const address = addressKey(remote);
    const userKey = userDigest(user);
    const budgets = this.#budgets(address, userKey);
    // Spent budgets answer before the in-flight cap, as they do for a remembered password.
    this.#peek(budgets);
    const release = this.#inFlight.acquire(address);
    if (!release) {
      throw new RateLimitedError(`at most ${MAX_CHECKS_PER_ADDRESS} password checks at once from one address; the password was not checked`, MAX_CHECKS_PER_ADDRESS, IN_FLIGHT_RETRY_S);
    }
    const taken: [TokenBuckets, string, boolean][] = [];
    const giveBack = (all: boolean) => {
      for (const [b, k, refundable] of taken.splice(0)) if (all || refundable) b.refund(k);
    };
    for (const [buckets, key, where, refundable] of budgets) {
      const t = buckets.take(key);
      if (!t.ok) {
        giveBack(true);
        release();
        throw this.#spent(where, buckets, t.retryAfterMs);
      }
      taken.push([buckets, key, refundable]);
    }
    return {
      succeeded: () => {
        giveBack(false);
        this.#remember(`${userKey} ${address}`);
      },
      refund: () => giveBack(true),
      release,
    };
  }

  #remember(pair: string): void {
    // Only a right password makes an entry, and the map is bounded besides.
    this.#known.delete(pair);
    if (this.#known.size >= MAX_KNOWN_PAIRS) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(pair, this.#now() + KNOWN_ADDRESS_MS);
  }
}

/** A fixed-size key for a user name: the name is the caller's to make long. */
const userDigest = (user: string) => createHash("sha256").update(user.normalize("NFC")).digest("base64");
