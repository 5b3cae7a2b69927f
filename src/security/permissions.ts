/**
 * Subject permissions with NATS semantics: `*` matches one token, `>` one or
 * more trailing tokens, deny wins over allow. A subscription pattern must be
 * contained in the allow rules (every subject it can match is allowed by one);
 * a pattern wholly inside the deny rules is refused, and one that merely
 * overlaps them is accepted with the denied subjects filtered out at delivery,
 * as nats-server does. A subject under a server-owned prefix ($SYS., $JS.,
 * $KV., $O., _INBOX.) is allowed only by an allow that names the prefix
 * literally (`$KV.config.>` opens that bucket, not `$KV.secrets.x` to a `>`
 * beside it); the gateway's own internal subjects are denied whatever the
 * allows say.
 */
import { GATEWAY_INBOX_PREFIX, isQueueName, patternCovered, patternsOverlap, RESERVED_PREFIXES, subjectMatches, type Tokens } from "../nats/subjects.js";

/** Allow and deny lists of subject patterns. */
export interface PermissionRules {
  allow: string[];
  deny: string[];
}

const split = (pattern: string): Tokens => pattern.split(".");
/** Decisions remembered per rule set before the memo is cleared (bounds memory under random subjects). */
const MAX_MEMO = 10_000;
const RESERVED_FIRST_TOKENS = RESERVED_PREFIXES.map((p) => p.slice(0, -1));
/** Subjects only the gateway itself uses (webhook journal, its reply inboxes); callers add their KV buckets. */
export const GATEWAY_INTERNAL = ["$NATSGATE.>", `${GATEWAY_INBOX_PREFIX}.>`] as const;

const isReservedToken = (token: string | undefined) => token !== undefined && RESERVED_FIRST_TOKENS.includes(token);

/** A `"subject queue"` rule: it concerns joining queue group `queue` on `subject`, as in NATS. */
interface QueueRule {
  subject: string;
  queue: string;
}

/** Splits rule entries into plain subjects and `"subject queue"` queue rules. */
function splitRules(entries: readonly string[]): { plain: string[]; queue: QueueRule[] } {
  const plain: string[] = [];
  const queue: QueueRule[] = [];
  for (const entry of entries) {
    const [subject, group] = entry.trim().split(/\s+/);
    if (group === undefined) plain.push(subject!);
    else queue.push({ subject: subject!, queue: group });
  }
  return { plain, queue };
}

/** Compiled rules for one direction (publish or subscribe). */
export class SubjectRules {
  /** Allows that do not name a reserved prefix: they never reach one. */
  readonly #general: string[] = [];
  /** Allows naming a reserved prefix literally, by that prefix: each opens only what it matches. */
  readonly #reserved = new Map<string, string[]>();
  /** Denies that can match any subject. */
  readonly #deny: string[];
  /** Denies under `$` or `_` prefixes (reserved and internal ones): only such subjects need them. */
  readonly #denyPrefixed: string[];
  readonly #denyTokens: Tokens[];
  readonly #queueAllows: QueueRule[];
  readonly #queueDenies: QueueRule[];
  // Every publish asks; the same few subjects recur, and matching splits strings.
  #memo = new Map<string, boolean>();

  /** The rules as configured (without the implicit reserved and internal denies). */
  readonly rules: PermissionRules;

  constructor(rules: Partial<PermissionRules> = {}, internal: readonly string[] = GATEWAY_INTERNAL) {
    this.rules = { allow: [...(rules.allow ?? [])], deny: [...(rules.deny ?? [])] };
    const allow = splitRules(this.rules.allow);
    const deny = splitRules(this.rules.deny);
    for (const a of allow.plain) {
      const first = a.split(".", 1)[0]!;
      if (isReservedToken(first)) this.#reserved.set(first, [...(this.#reserved.get(first) ?? []), a]);
      else this.#general.push(a);
    }
    this.#queueAllows = allow.queue;
    this.#queueDenies = deny.queue;
    const all = [...deny.plain, ...internal];
    const prefixed = (d: string) => d.charCodeAt(0) === 36 || d.charCodeAt(0) === 95;
    this.#deny = all.filter((d) => !prefixed(d));
    this.#denyPrefixed = all.filter(prefixed);
    this.#denyTokens = all.map(split);
  }

  /** The allows that can grant subjects starting with `first` (a literal token or a wildcard). */
  #allowsFor(first: string | undefined): string[] {
    return isReservedToken(first) ? this.#reserved.get(first!) ?? [] : this.#general;
  }

  /** May this literal subject be used? */
  permits(subject: string): boolean {
    let ok = this.#memo.get(subject);
    if (ok === undefined) {
      const first = subject.split(".", 1)[0];
      const c = subject.charCodeAt(0);
      const denies = c === 36 || c === 95 ? [this.#deny, this.#denyPrefixed] : [this.#deny];
      ok = !denies.some((list) => list.some((d) => subjectMatches(d, subject))) && this.#allowsFor(first).some((a) => subjectMatches(a, subject));
      if (this.#memo.size >= MAX_MEMO) this.#memo = new Map();
      this.#memo.set(subject, ok);
    }
    return ok;
  }

  /**
   * May this pattern be subscribed to (in queue group `queue`)? Every subject it
   * matches must be allowed (a pattern under a reserved prefix by allows naming
   * that prefix, any other by the other allows; a queue subscription only by
   * `"subject queue"` grants for that group), and at least one must escape the
   * denies (else it could deliver nothing). What a wildcard-led pattern matches
   * under reserved prefixes is filtered at delivery (`deliveryFilter`).
   */
  permitsPattern(pattern: string, queue?: string): boolean {
    const tokens = split(pattern);
    // A name NATS would not read as one token is never granted (callers also refuse it, 400).
    if (queue !== undefined && !isQueueName(queue)) return false;
    if (queue === undefined) return patternCovered(tokens, this.#allowsFor(tokens[0]).map(split)) && !patternCovered(tokens, this.#denyTokens);
    const first = tokens[0]!;
    const grants = this.#queueAllows.filter((r) => subjectMatches(r.queue, queue) && this.#sameSide(r.subject, first)).map((r) => split(r.subject));
    return patternCovered(tokens, grants) && !patternCovered(tokens, this.#denyTokensFor(queue));
  }

  /** True when `subject` grants on the same side of the reserved line as a pattern starting with `first`. */
  #sameSide(subject: string, first: string): boolean {
    const own = subject.split(".", 1)[0]!;
    return isReservedToken(first) ? own === first : !isReservedToken(own);
  }

  /** The denies for a subscription: queue denies count for their group only. */
  #denyTokensFor(queue: string | undefined): Tokens[] {
    if (queue === undefined) return this.#denyTokens;
    return [...this.#denyTokens, ...this.#queueDenies.filter((r) => subjectMatches(r.queue, queue)).map((r) => split(r.subject))];
  }

  /**
   * The delivery check for a subscription to `patterns`: undefined when no
   * pattern can match a denied or reserved subject (nothing to filter, no
   * per-message cost), else a predicate that passes only subjects this client
   * may receive.
   */
  deliveryFilter(patterns: readonly string[], queue?: string): ((subject: string) => boolean) | undefined {
    const denies = this.#denyTokensFor(queue);
    const needed = patterns.some((p) => {
      const tokens = split(p);
      return tokens[0] === "*" || tokens[0] === ">" || denies.some((d) => patternsOverlap(tokens, d));
    });
    return needed ? (subject) => this.permits(subject) : undefined;
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

  /** Publish anywhere except reserved prefixes, subscribe likewise (any queue group), administer: `auth.mode: none`. */
  static unrestricted(internal: readonly string[] = GATEWAY_INTERNAL): Permissions {
    return new Permissions({ allow: [">"] }, { allow: [">", "> >"] }, true, internal);
  }
}
