/**
 * Subject permissions with NATS semantics: `*` matches one token, `>` one or
 * more trailing tokens, deny wins over allow. Subscribing checks containment —
 * a pattern is allowed only if every subject it can match is allowed — never
 * mere overlap. Server-owned prefixes ($SYS., $JS., $KV., $O., _INBOX.) are
 * denied unless an allow pattern names the prefix literally.
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

/** Compiled rules for one direction (publish or subscribe). */
export class SubjectRules {
  readonly #allow: string[];
  readonly #deny: string[];
  readonly #allowTokens: Tokens[];
  readonly #denyTokens: Tokens[];
  // Every publish asks; the same few subjects recur, and matching splits strings.
  #memo = new Map<string, boolean>();

  constructor(rules: Partial<PermissionRules> = {}) {
    this.#allow = rules.allow ?? [];
    const allowTokens = this.#allow.map(split);
    // Reserved prefixes are implicitly denied unless some allow names them literally.
    const implicit = RESERVED_FIRST_TOKENS.filter((t) => !allowTokens.some((a) => a[0] === t)).map((t) => `${t}.>`);
    this.#deny = [...(rules.deny ?? []), ...implicit];
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

  /** May this pattern be used — is every subject it matches permitted? */
  permitsPattern(pattern: string): boolean {
    const tokens = split(pattern);
    if (this.#denyTokens.some((d) => patternsOverlap(tokens, d))) return false;
    return patternCovered(tokens, this.#allowTokens);
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
  ) {
    this.publish = new SubjectRules(publish);
    this.subscribe = new SubjectRules(subscribe);
  }

  /** Publish anywhere except reserved prefixes, subscribe likewise, administer: `auth.mode: none`. */
  static unrestricted(): Permissions {
    return new Permissions({ allow: [">"] }, { allow: [">"] }, true);
  }
}
