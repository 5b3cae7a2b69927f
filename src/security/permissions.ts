/**
 * Subject permissions with NATS semantics: `*` matches one token, `>` one or
 * more trailing tokens, deny wins over allow. Subscribing checks containment —
 * a pattern is allowed only if every subject it can match is allowed — never
 * mere overlap. Server-owned prefixes ($SYS., $JS., $KV., $O., _INBOX.) are
 * denied unless an allow pattern names the prefix literally.
 */
import { RESERVED_PREFIXES, subjectMatches } from "../nats/subjects.js";

/** Allow and deny lists of subject patterns. */
export interface PermissionRules {
  allow: string[];
  deny: string[];
}

type Tokens = readonly string[];

const split = (pattern: string): Tokens => pattern.split(".");
/** Decisions remembered per rule set before the memo is cleared (bounds memory under random subjects). */
const MAX_MEMO = 10_000;
const RESERVED_FIRST_TOKENS = RESERVED_PREFIXES.map((p) => p.slice(0, -1));

/** True when some subject matches both patterns. */
export function patternsOverlap(a: Tokens, b: Tokens): boolean {
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === y;
    if (x === ">" || y === ">") return true;
    if (x !== "*" && y !== "*" && x !== y) return false;
  }
}

/**
 * True when every subject `pattern` matches is matched by at least one of
 * `allows` (containment in their union). For a `*` token only the allows with
 * `*` (or `>`) there can cover the infinitely many literals it stands for, and
 * `>` is split as `*` plus `*.>`.
 */
export function patternCovered(pattern: Tokens, allows: readonly Tokens[]): boolean {
  if (allows.length === 0) return false;
  const [head, ...rest] = pattern;
  if (head === undefined) return allows.some((a) => a.length === 0);
  if (allows.some((a) => a[0] === ">")) return true;
  if (head === ">") {
    return patternCovered(["*"], allows) && patternCovered(["*", ">"], allows);
  }
  const next = allows.filter((a) => a.length > 0 && (a[0] === "*" || (head !== "*" && a[0] === head))).map((a) => a.slice(1));
  return patternCovered(rest, next);
}

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
