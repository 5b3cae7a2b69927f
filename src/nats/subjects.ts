/**
 * NATS subject rules and wildcard matching. Pure functions on the hot path of
 * every publish: a single pass over char codes, no regex, no split for ASCII.
 */
import { BadRequestError, InvalidSubjectError } from "../errors.js";

/** Longest subject accepted, in UTF-8 bytes. */
export const MAX_SUBJECT_BYTES = 256;

/** Prefixes owned by the NATS server and clients; refused unless explicitly allowed. */
export const RESERVED_PREFIXES = ["$SYS.", "$JS.", "$KV.", "$O.", "$MQTT.", "_INBOX.", "$NATSGATE."] as const;

const DOT = 46;
const STAR = 42;
const GT = 62;
const DEL = 127;

// Unicode whitespace and control characters beyond ASCII (NEL, NBSP, line and
// paragraph separators, BOM, ...): a subject containing them looks equal to another.
const NON_ASCII_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Z}]/u;

/** Why `subject` is not a valid subject (or pattern, when `wildcards`), or undefined if it is. */
export function subjectProblem(subject: string, wildcards: boolean): string | undefined {
  const n = subject.length;
  if (n === 0) return "it is empty";
  let ascii = true;
  let tokenStart = 0;
  for (let i = 0; i < n; i++) {
    const c = subject.charCodeAt(i);
    if (c === DOT) {
      if (i === tokenStart) return "it has an empty token";
      tokenStart = i + 1;
    } else if (c <= 32 || c === DEL) {
      return "it contains whitespace or a control character";
    } else if (c === STAR || c === GT) {
      if (!wildcards) return "wildcards (* and >) cannot be published to";
      const alone = i === tokenStart && (i + 1 === n || subject.charCodeAt(i + 1) === DOT);
      if (!alone) return "a wildcard must be a whole token";
      if (c === GT && i + 1 !== n) return "> must be the last token";
    } else if (c > DEL) {
      ascii = false;
    }
  }
  if (tokenStart === n) return "it has an empty token";
  if (!ascii) {
    if (NON_ASCII_FORBIDDEN.test(subject)) return "it contains whitespace or a control character";
    if (Buffer.byteLength(subject, "utf8") > MAX_SUBJECT_BYTES) {
      return `it is longer than ${MAX_SUBJECT_BYTES} bytes`;
    }
  } else if (n > MAX_SUBJECT_BYTES) {
    return `it is longer than ${MAX_SUBJECT_BYTES} bytes`;
  }
  return undefined;
}

/** Throws `InvalidSubjectError` unless `subject` is a literal subject one may publish to. */
export function assertPublishSubject(subject: string): void {
  const problem = subjectProblem(subject, false);
  if (problem) throw new InvalidSubjectError(subject, problem);
}

/**
 * The gateway's reply inboxes (requests, JetStream API, consumers) live under
 * this prefix: inside `_INBOX.>`, so NATS permissions written for inboxes still
 * fit, yet apart, so a client allowed `_INBOX.>` never sees the gateway's replies.
 */
export const GATEWAY_INBOX_PREFIX = "_INBOX.natsgate";
/** Throws `InvalidSubjectError` unless `pattern` is a valid subscription pattern. */
export function assertSubscribePattern(pattern: string): void {
  const problem = subjectProblem(pattern, true);
  if (problem) throw new InvalidSubjectError(pattern, problem);
}

/** Longest queue group name accepted, in characters. */
export const MAX_QUEUE_NAME = 128;
// Whitespace or a control character would end the name inside nats.js's SUB protocol line
// (it writes names as they are), letting a client append protocol commands of its own.
const QUEUE_NAME = /^[^\s*>\u0000-\u001f\u007f-\u009f]+$/u;

/** True when `queue` is a queue group name NATS takes as one token. */
export function isQueueName(queue: string): boolean {
  return queue.length > 0 && queue.length <= MAX_QUEUE_NAME && QUEUE_NAME.test(queue);
}

/** Throws `BadRequestError` unless `queue` is a queue group name NATS takes as one token. */
export function assertQueueName(queue: string): void {
  if (!isQueueName(queue)) {
    throw new BadRequestError(`queue must be 1-${MAX_QUEUE_NAME} characters without spaces, control characters or wildcards`);
  }
}

/** True when the subject or pattern lies under a server-owned prefix. */
export function isReservedSubject(subject: string): boolean {
  const c = subject.charCodeAt(0);
  // Cheap first-char gate: every reserved prefix starts with '$' or '_'.
  if (c !== 36 && c !== 95) return false;
  for (const prefix of RESERVED_PREFIXES) {
    if (subject.startsWith(prefix)) return true;
  }
  return false;
}

/** True when `pattern` has a wildcard token. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes(">");
}

/**
 * NATS matching: does the literal `subject` match `pattern`?
 * `*` matches exactly one token, `>` one or more trailing tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** A subject or pattern split on `.`. */
export type Tokens = readonly string[];

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

/**
 * The pattern matching exactly the subjects both `a` and `b` match, or
 * undefined when none does (NATS patterns are closed under intersection).
 */
export function patternIntersection(a: Tokens, b: Tokens): Tokens | undefined {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === y ? out : undefined;
    if (x === ">") return [...out, ...b.slice(i)];
    if (y === ">") return [...out, ...a.slice(i)];
    if (x === "*") out.push(y);
    else if (y === "*" || x === y) out.push(x);
    else return undefined;
  }
}
