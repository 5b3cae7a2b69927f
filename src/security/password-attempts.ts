/**
 * Limits on password checks that would run scrypt: passwords are guessable
 * where tokens are not, and each guess costs ~16 MiB and tens of ms. A check
 * reserves one token from three failure budgets before it hashes — its
 * address's (an IPv6 /64 is one address), its user name's (a guesser spread
 * over many addresses) and the gateway's (one spraying many users) — and gets
 * them back when the password was right, so concurrent guesses cannot slip past
 * budgets charged afterwards. At most `MAX_CHECKS_PER_ADDRESS` run or wait per
 * address, so one address cannot hold the process-wide check queue.
 *
 * Only a password verified from the same address within the cache time skips
 * this (`password-check.ts`): anything else that a spent budget let through
 * would answer right guesses 200 and wrong ones a cheap 429, an oracle.
 */
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
/** Password checks one address may have running or waiting at once. */
export const MAX_CHECKS_PER_ADDRESS = 2;
/** Seconds an address at its in-flight cap is told to wait. */
const IN_FLIGHT_RETRY_S = 1;

/** One reserved check: `succeeded()` gives its failure tokens back (also for a check that never ran); `release()` frees its slot. */
export interface Attempt {
  succeeded(): void;
  release(): void;
}

/** Options for `PasswordAttempts`: the three budgets. */
export interface PasswordAttemptsOptions {
  perAddress?: FailureBudget;
  perUser?: FailureBudget;
  gateway?: FailureBudget;
  now?: () => number;
}

/** Guards password checks per address, per user and per gateway. */
export class PasswordAttempts {
  readonly #address: TokenBuckets;
  readonly #user: TokenBuckets;
  readonly #gateway: TokenBuckets;
  readonly #inFlight = new ClientSlots(MAX_CHECKS_PER_ADDRESS, "password checks in progress");

  constructor({ perAddress = DEFAULT_PASSWORD_FAILURES, perUser = DEFAULT_USER_FAILURES, gateway = DEFAULT_GATEWAY_FAILURES, now = Date.now }: PasswordAttemptsOptions = {}) {
    this.#address = new TokenBuckets(perAddress.perSecond, perAddress.burst, now);
    this.#user = new TokenBuckets(perUser.perSecond, perUser.burst, now);
    this.#gateway = new TokenBuckets(gateway.perSecond, gateway.burst, now);
  }

  /** The per-address budget for a gateway whose `rateLimit` is `rate`: the default, or `rate` where that is stricter. */
  static perAddress(rate: FailureBudget | undefined): FailureBudget {
    const d = DEFAULT_PASSWORD_FAILURES;
    return rate ? { perSecond: Math.min(d.perSecond, rate.perSecond), burst: Math.min(d.burst, rate.burst) } : d;
  }

  /** Reserves a check of `user`'s password from `remote`, or throws 429 (a budget spent, or too many in flight) without hashing. */
  begin(remote: string | undefined, user: string): Attempt {
    const address = addressKey(remote);
    const release = this.#inFlight.acquire(address);
    if (!release) {
      throw new RateLimitedError(`at most ${MAX_CHECKS_PER_ADDRESS} password checks at once from one address; the password was not checked`, MAX_CHECKS_PER_ADDRESS, IN_FLIGHT_RETRY_S);
    }
    const budgets: [TokenBuckets, string, string][] = [
      [this.#address, address, "from this address"],
      [this.#user, user.normalize("NFC"), "for this user"],
      [this.#gateway, "all", "on this gateway"],
    ];
    const taken: [TokenBuckets, string][] = [];
    for (const [buckets, key, where] of budgets) {
      const t = buckets.take(key);
      if (!t.ok) {
        for (const [b, k] of taken) b.refund(k);
        release();
        throw new RateLimitedError(`too many failed sign-ins ${where}; the password was not checked`, buckets.burst, Math.ceil(t.retryAfterMs / 1000));
      }
      taken.push([buckets, key]);
    }
    let refunded = false;
    return {
      succeeded: () => {
        if (refunded) return;
        refunded = true;
        for (const [b, k] of taken) b.refund(k);
      },
      release,
    };
  }
}
