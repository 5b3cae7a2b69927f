/**
 * The gateway's refusals as typed errors: every non-2xx answer is
 * problem+json (RFC 9457), and each status a caller acts on differently has a
 * class of its own, so `catch (e) { if (e instanceof RateLimitedError) … }`
 * reads the way the gateway's contract does.
 */

/** One issue of a refused body (a schema violation's path and message). */
export interface ProblemIssue {
  path: string;
  message: string;
}

/** A problem+json body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemIssue[];
}

/** A refusal from the gateway: its status, problem and, where it sent one, Retry-After in ms. */
export class ProblemError extends Error {
  override name = "ProblemError";
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: ProblemIssue[];
  /** How long the gateway asked to wait before trying again, in ms (Retry-After); undefined without one. */
  readonly retryAfterMs: number | undefined;

  constructor(problem: Problem, retryAfterMs?: number) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.retryAfterMs = retryAfterMs;
  }
}

/** 400: the request itself is wrong (a subject, a query parameter, malformed JSON). */
export class BadRequestError extends ProblemError {
  override name = "BadRequestError";
}
/** 401: no credentials, or wrong or expired ones. */
export class UnauthorizedError extends ProblemError {
  override name = "UnauthorizedError";
}
/** 401 during a subscription: the token ran out and no `getToken` can give another. */
export class TokenExpiredError extends UnauthorizedError {
  override name = "TokenExpiredError";
}
/** 403: the client may not use this subject or route. */
export class ForbiddenError extends ProblemError {
  override name = "ForbiddenError";
}
/** 422: the event violates its subject's schema; `errors` says where. */
export class ValidationError extends ProblemError {
  override name = "ValidationError";
}
/** 429: rate limited; `retryAfterMs` says when to come back. */
export class RateLimitedError extends ProblemError {
  override name = "RateLimitedError";
}
/** 503: NATS unavailable, no responders, or the gateway busy; nothing was published. */
export class UnavailableError extends ProblemError {
  override name = "UnavailableError";
}

const CLASSES: Record<number, typeof ProblemError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  422: ValidationError,
  429: RateLimitedError,
  503: UnavailableError,
};

/** Most of a problem body read, in bytes: a proxy's HTML error page is not worth more. */
const MAX_PROBLEM_BYTES = 64 * 1024;
/** Longest wait for a problem body, in ms: a body that never ends must not hold the call. */
const PROBLEM_READ_MS = 10_000;

/** Up to `MAX_PROBLEM_BYTES` of a body, within `PROBLEM_READ_MS`; the rest is not read. */
async function readProblemText(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, PROBLEM_READ_MS, undefined)));
  try {
    while (size < MAX_PROBLEM_BYTES) {
      const next = await Promise.race([reader.read(), late]);
      if (next === undefined || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } catch {
    // A body cut off midway: what arrived still says something.
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, MAX_PROBLEM_BYTES));
  let at = 0;
  for (const c of chunks) {
    if (at >= bytes.length) break;
    bytes.set(c.subarray(0, bytes.length - at), at);
    at += Math.min(c.byteLength, bytes.length - at);
  }
  return new TextDecoder().decode(bytes);
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error for a non-2xx response (its body is consumed). */
export async function problemError(res: Response): Promise<ProblemError> {
  const text = await readProblemText(res);
  let body: Partial<Problem> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object") body = parsed as Partial<Problem>;
  } catch {
    // Not problem+json (a proxy in between): the status still says what happened.
  }
  const problem: Problem = {
    type: typeof body.type === "string" ? body.type : "about:blank",
    title: typeof body.title === "string" ? body.title : res.statusText || `HTTP ${res.status}`,
    status: res.status,
    detail: typeof body.detail === "string" ? body.detail : text.slice(0, 200),
    ...(Array.isArray(body.errors) ? { errors: body.errors } : {}),
  };
  return errorFor(problem, retryAfterMs(res.headers.get("retry-after")));
}

/** The typed error for a problem (an HTTP answer's, or a WebSocket `err` frame's). */
export function errorFor(problem: Problem, retryAfter?: number): ProblemError {
  const Class = CLASSES[problem.status] ?? ProblemError;
  return new Class(problem, retryAfter);
}
