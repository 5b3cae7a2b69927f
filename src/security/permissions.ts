/**
 * Subject permissions with NATS semantics: `*` matches one token, `>` one or
 * more trailing tokens, deny wins over allow. A subscription pattern must be
 * contained in the allow rules (every subject it can match is allowed by one);
 * a pattern wholly inside the deny rules is refused, and one that merely
 * overlaps them is accepted with the denied subjects filtered out at delivery,
 * as nats-server does. Server-owned prefixes ($SYS., $JS., $KV., $O., _INBOX.)
 * are denied unless an allow pattern names the prefix literally; the gateway's
 * own internal subjects are denied whatever the allows say.
 */
import { patternCovered, patternsOverlap, RESERVED_PREFIXES, subjectMatches, type Tokens } from "../nats/subjects.js";

/** Allow and deny lists of subject patterns. */
export interface PermissionRules {
  allow: string[];
  deny: string[];
}

const split = (pattern: string): Tokens => pattern.split(".");
/** Decisions remembered per rule set before the memo is cleared (bounds memory under random subjects). */
const MAX_MEMO = 10_000;
const RESERVED_FIRST_TOKENS = RESERVED_PREFIXES.map((p) => p.slice(0, -1));
/** Subjects only the gateway itself uses (webhook journal); callers add their KV buckets. */
export const GATEWAY_INTERNAL = ["$NATSGATE.>"] as const;

/** Compiled rules for one direction (publish or subscribe). */
export class SubjectRules {
  readonly #allow: string[];
  readonly #deny: string[];
  readonly #allowTokens: Tokens[];
  readonly #denyTokens: Tokens[];
  // Every publish asks; the same few subjects recur, and matching splits strings.
  #memo = new Map<string, boolean>();

  /** The rules as configured (without the implicit reserved and internal denies). */
  readonly rules: PermissionRules;

  constructor(rules: Partial<PermissionRules> = {}, internal: readonly string[] = GATEWAY_INTERNAL) {
    this.rules = { allow: [...(rules.allow ?? [])], deny: [...(rules.deny ?? [])] };
    this.#allow = rules.allow ?? [];
    const allowTokens = this.#allow.map(split);
    // Reserved prefixes are implicitly denied unless some allow names them literally.
    const implicit = RESERVED_FIRST_TOKENS.filter((t) => !allowTokens.some((a) => a[0] === t)).map((t) => `${t}.>`);
    this.#deny = [...(rules.deny ?? []), ...implicit, ...internal];
    this.#allowTokens = allowTokens;
    this.#denyTokens = this.#deny.map(split);
  }

  /** May this literal subject be used? */
  permits(subject: string): boolean {
    let ok = this.#memo.get(subject);
    if (ok === undefined) {
      ok = !this.#deny.some((d) => subjectMatches(d, subject)) && this.#allow.some((a) => subjectMatches(a, subject));
      if (this.#memo.size >= MAX_MEMO) this.#memo = new Map();
      this.#memo.set(subject, ok);
    }
    return ok;
  }

  /**
   * May this pattern be subscribed to? Every subject it matches must be allowed,
   * and at least one must escape the denies (else it could deliver nothing).
   */
  permitsPattern(pattern: string): boolean {
    const tokens = split(pattern);
    return patternCovered(tokens, this.#allowTokens) && !patternCovered(tokens, this.#denyTokens);
  }

  /**
   * The delivery check for a subscription to `patterns`: undefined when no
   * pattern overlaps a deny (nothing to filter, no per-message cost), else a
   * predicate that passes only subjects this client may receive.
   */
  deliveryFilter(patterns: readonly string[]): ((subject: string) => boolean) | undefined {
    const overlapping = patterns.some((p) => {
      const tokens = split(p);
      return this.#denyTokens.some((d) => patternsOverlap(tokens, d));
    });
    return overlapping ? (subject) => this.permits(subject) : undefined;
  }
}

/** Everything one client may do. */
export class Permissions {
  readonly publish: SubjectRules;
  readonly subscribe: SubjectRules;

  constructor(
    publish: Partial<PermissionRules> | undefined,
    subscribe: Partial<PermissionRules> | undefined,
    readonly admin: boolean,
    internal: readonly string[] = GATEWAY_INTERNAL,
  ) {
    this.publish = new SubjectRules(publish, internal);
    this.subscribe = new SubjectRules(subscribe, internal);
  }

  /** Publish anywhere except reserved prefixes, subscribe likewise, administer: `auth.mode: none`. */
  static unrestricted(internal: readonly string[] = GATEWAY_INTERNAL): Permissions {
    return new Permissions({ allow: [">"] }, { allow: [">"] }, true, internal);
  }
}
