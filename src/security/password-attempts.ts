/**
 * Per-address limits on password checks that would run scrypt: passwords are
 * guessable where tokens are not, and each guess costs ~16 MiB and tens of ms.
 * A check reserves one token of the address's failure budget before it hashes
 * (given back when the password was right), so concurrent guesses cannot all
 * slip past a budget that is only charged afterwards, and at most
 * `MAX_CHECKS_PER_ADDRESS` run or wait per address, so one address cannot hold
 * the process-wide check queue. Always on: without `rateLimit` the failure
 * budget is `DEFAULT_PASSWORD_FAILURES`.
 */
import { RateLimitedError } from "../errors.js";
import { ClientSlots, TokenBuckets } from "./rate-limit.js";

/** Failed password checks one address may make without `rateLimit`: a burst, then one a second. */
export const DEFAULT_PASSWORD_FAILURES = { perSecond: 1, burst: 10 };
/** Password checks one address may have running or waiting at once. */
export const MAX_CHECKS_PER_ADDRESS = 2;
/** Seconds an address at its in-flight cap is told to wait. */
const IN_FLIGHT_RETRY_S = 1;

/** The key of an address's failed sign-ins, shared with refused tokens. */
export const failureKey = (remote: string | undefined) => `auth-failure:${remote ?? "local"}`;

/** One reserved check: `succeeded()` gives its failure token back; `release()` frees its slot. */
export interface Attempt {
  succeeded(): void;
  release(): void;
}

/** Guards password checks per address. */
export class PasswordAttempts {
  readonly failures: TokenBuckets;
  readonly #inFlight = new ClientSlots(MAX_CHECKS_PER_ADDRESS, "password checks in progress");

  /** `limiter` (rateLimit's buckets) holds the failure budget when configured, so tokens and passwords share it. */
  constructor(limiter: TokenBuckets | undefined, now: () => number = Date.now) {
    this.failures = limiter ?? new TokenBuckets(DEFAULT_PASSWORD_FAILURES.perSecond, DEFAULT_PASSWORD_FAILURES.burst, now);
  }

  /** Reserves a check for `remote`, or throws 429 (budget spent, or too many in flight) without hashing. */
  begin(remote: string | undefined): Attempt {
    const release = this.#inFlight.acquire(remote ?? "local");
    if (!release) {
      throw new RateLimitedError(`at most ${MAX_CHECKS_PER_ADDRESS} password checks at once from one address; the password was not checked`, MAX_CHECKS_PER_ADDRESS, IN_FLIGHT_RETRY_S);
    }
    const key = failureKey(remote);
    const taken = this.failures.take(key);
    if (!taken.ok) {
      release();
      throw new RateLimitedError("too many failed sign-ins from this address; the password was not checked", this.failures.burst, Math.ceil(taken.retryAfterMs / 1000));
    }
    return { succeeded: () => this.failures.refund(key), release };
  }
}
