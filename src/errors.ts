/**
 * The gateway's error taxonomy. Every failure a client can see is one of these
 * classes; `toProblem` (used by the app's single `onError`) turns them into
 * RFC 9457 problem+json. NATS errors are translated into these at the boundary
 * (`src/nats/errors.ts`) and nowhere else.
 */

/** One validation issue, as listed in a problem's `errors` member. */
export interface ProblemIssue {
  /** JSON Pointer into the offending document ("" is the document itself). */
  path: string;
  message: string;
}

/** RFC 9457 problem details as natsgate sends them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemIssue[];
  [extension: string]: unknown;
}

const PROBLEM_BASE = "https://natsgate.dev/problems/";

/** Base class: an error with an HTTP status and a stable problem type. */
export abstract class GatewayError extends Error {
  abstract readonly status: number;
  abstract readonly slug: string;
  abstract readonly title: string;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  retryAfter?: number;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Extra problem members (beyond type/title/status/detail). */
  extensions(): Record<string, unknown> {
    return {};
  }

  /** Extra response headers (Retry-After is added from `retryAfter`). */
  headers(): Record<string, string> {
    return {};
  }

  toProblem(): Problem {
    return {
      type: PROBLEM_BASE + this.slug,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...this.extensions(),
    };
  }
}

/** A subject that breaks NATS subject rules (400). */
export class InvalidSubjectError extends GatewayError {
  readonly status = 400;
  readonly slug = "invalid-subject";
  readonly title = "Invalid subject";
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`subject ${JSON.stringify(subject)} is invalid: ${reason}`);
  }
}

/** Malformed request input: bad JSON, bad query parameter, bad envelope (400). */
export class BadRequestError extends GatewayError {
  readonly status = 400;
  readonly slug: string;
  readonly title: string;
  constructor(
    message: string,
    opts: { slug?: string; title?: string; issues?: ProblemIssue[]; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.slug = opts.slug ?? "bad-request";
    this.title = opts.title ?? "Bad request";
    this.issues = opts.issues;
  }
  readonly issues: ProblemIssue[] | undefined;
  override extensions() {
    return this.issues ? { errors: this.issues } : {};
  }
}

/** A body that is not valid JSON where JSON is required (400). */
export class MalformedJsonError extends BadRequestError {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`body is not valid JSON: ${why}`, {
      slug: "malformed-json",
      title: "Malformed JSON",
      cause,
    });
  }
}

/** JSON nested deeper than `server.maxJsonDepth` (400): re-serialising it would overflow the stack. */
export class JsonTooDeepError extends BadRequestError {
  constructor(readonly maxDepth: number) {
    super(`JSON nests deeper than ${maxDepth} levels (server.maxJsonDepth)`, { slug: "json-too-deep", title: "JSON too deep" });
  }
}

/** The challenges a 401 carries: Basic only where some client has a password, since browsers prompt for it. */
const BEARER_CHALLENGE = 'Bearer realm="natsgate"';
const BASIC_CHALLENGE = 'Basic realm="natsgate", charset="UTF-8"';

/** Missing or invalid credentials (401). */
export class UnauthorizedError extends GatewayError {
  readonly status = 401;
  readonly slug = "unauthorized";
  readonly title = "Unauthorized";
  constructor(
    message: string,
    /** Offer Basic beside Bearer: the gateway has clients with passwords. */
    readonly basic = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  override headers() {
    return { "www-authenticate": this.basic ? `${BEARER_CHALLENGE}, ${BASIC_CHALLENGE}` : BEARER_CHALLENGE };
  }
}

/** Too many password checks are already running or waiting (503): a flood of guesses does not queue without bound. */
export class AuthBusyError extends GatewayError {
  readonly status = 503;
  readonly slug = "auth-busy";
  readonly title = "Authentication busy";
  constructor(message: string) {
    super(message);
    this.retryAfter = 1;
  }
}

/** The client spent its rate limit (429). */
export class RateLimitedError extends GatewayError {
  readonly status = 429;
  readonly slug = "rate-limited";
  readonly title = "Too many requests";
  constructor(
    message: string,
    readonly limit: number,
    retryAfterSeconds: number,
  ) {
    super(message);
    this.retryAfter = retryAfterSeconds;
  }
  override headers() {
    return { "ratelimit-limit": String(this.limit), "ratelimit-remaining": "0", "ratelimit-reset": String(this.retryAfter) };
  }
}

/** The caller may not use this subject (403). */
export class ForbiddenError extends GatewayError {
  readonly status = 403;
  readonly slug = "forbidden";
  readonly title = "Forbidden";
  constructor(
    message: string,
    readonly subject?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The 403 for a subject a client may not use; reserved prefixes say so rather than naming the client. */
export function subjectRefused(client: string, verb: "publish to" | "subscribe to", subject: string, reserved: boolean): ForbiddenError {
  return new ForbiddenError(
    reserved ? `subject ${subject} is reserved for the NATS server` : `client ${client} may not ${verb} ${subject}`,
    subject,
  );
}

/** Nothing at this path, or no such resource (404). */
export class NotFoundError extends GatewayError {
  readonly status = 404;
  readonly slug = "not-found";
  readonly title = "Not found";
}

/**
 * The request body ended before it was complete: the client went away, or
 * stalled past `server.readTimeoutMs` and Node answered 408 (408, so the audit
 * says what such a client was told).
 */
export class IncompleteBodyError extends GatewayError {
  readonly status = 408;
  readonly slug = "incomplete-body";
  readonly title = "Incomplete body";
  constructor(cause: unknown) {
    super("the request body could not be read to its end: the connection was closed or stalled", { cause });
  }
}

/** The path exists but not for this method (405); `Allow` lists the ones it takes. */
export class MethodNotAllowedError extends GatewayError {
  readonly status = 405;
  readonly slug = "method-not-allowed";
  readonly title = "Method not allowed";
  constructor(
    message: string,
    readonly allow: string[],
  ) {
    super(message);
  }

  override headers(): Record<string, string> {
    return { Allow: this.allow.join(", ") };
  }
}

/** `Expect-Stream` names another stream than the one capturing the subject (409). */
export class StreamMismatchError extends GatewayError {
  readonly status = 409;
  readonly slug = "stream-mismatch";
  readonly title = "Stream mismatch";
}

/** The request repeats one already handled, e.g. a replayed webhook delivery (409). */
export class ConflictError extends GatewayError {
  readonly status = 409;
  readonly slug = "conflict";
  readonly title = "Conflict";
}

/** `Expect-Last-Sequence` does not match the stream (412). */
export class PreconditionFailedError extends GatewayError {
  readonly status = 412;
  readonly slug = "wrong-last-sequence";
  readonly title = "Precondition failed";
}

/** Body larger than the limit (413). */
export class PayloadTooLargeError extends GatewayError {
  readonly status = 413;
  readonly slug = "payload-too-large";
  readonly title = "Payload too large";
  constructor(readonly limit: number) {
    super(`body exceeds the limit of ${limit} bytes`);
  }
  override extensions() {
    return { limit: this.limit };
  }
}

/** An event's headers are over what the stream takes (431): JetStream stores at most 64 KiB of them. */
export class HeadersTooLargeError extends GatewayError {
  readonly status = 431;
  readonly slug = "headers-too-large";
  readonly title = "Headers too large";
}

/** Content type the subject cannot take (415). */
export class UnsupportedMediaTypeError extends GatewayError {
  readonly status = 415;
  readonly slug = "unsupported-media-type";
  readonly title = "Unsupported media type";
}

/** The event does not satisfy the subject's schema (422). */
export class SchemaViolationError extends GatewayError {
  readonly status = 422;
  readonly slug = "schema-violation";
  readonly title = "Schema violation";
  constructor(
    readonly subject: string,
    readonly issues: ProblemIssue[],
  ) {
    super(`event for ${subject} violates its schema (${issues.length} issue(s))`);
  }
  override extensions() {
    return { errors: this.issues };
  }
}

/** `schemas.strict` is on and no schema covers the subject (422). */
export class NoSchemaError extends GatewayError {
  readonly status = 422;
  readonly slug = "no-schema";
  readonly title = "No schema for subject";
  constructor(readonly subject: string) {
    super(`no schema is registered for ${subject} and schemas.strict is on`);
  }
}

/** NATS is not connected, or refused to take the message (503). */
export class NatsUnavailableError extends GatewayError {
  readonly status = 503;
  readonly slug = "nats-unavailable";
  readonly title = "NATS unavailable";
  constructor(message = "NATS is not connected", options?: ErrorOptions) {
    super(message, options);
    this.retryAfter = 2;
  }
}

/** A request found no responder on its subject (503). */
export class NoRespondersError extends GatewayError {
  readonly status = 503;
  readonly slug = "no-responders";
  readonly title = "No responders";
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(`no responders are listening on ${subject}`, options);
    this.retryAfter = 1;
  }
}

/** JetStream did not acknowledge in time (504). */
export class AckTimeoutError extends GatewayError {
  readonly status = 504;
  readonly slug = "ack-timeout";
  readonly title = "JetStream ack timeout";
}

/** NATS did not confirm a core publish in time (504): it may or may not have been delivered. */
export class UnconfirmedError extends GatewayError {
  readonly status = 504;
  readonly slug = "not-confirmed";
  readonly title = "Not confirmed by NATS";
}

/** A request got no reply in time (504). */
export class RequestTimeoutError extends GatewayError {
  readonly status = 504;
  readonly slug = "request-timeout";
  readonly title = "Request timed out";
}

/** NATS refused the message for a reason the client cannot fix here (502). */
export class UpstreamError extends GatewayError {
  readonly status = 502;
  readonly slug = "nats-error";
  readonly title = "NATS refused the message";
}

/** A well-formed request the gateway cannot act on, e.g. a webhook over subjects no stream captures (422). */
export class UnprocessableError extends GatewayError {
  readonly status = 422;
  readonly slug = "unprocessable";
  readonly title = "Unprocessable request";
  constructor(
    message: string,
    readonly issues: ProblemIssue[] = [],
  ) {
    super(message);
  }
  override extensions() {
    return this.issues.length > 0 ? { errors: this.issues } : {};
  }
}

/** A webhook destination did not accept a delivery the caller asked for now (502). */
export class DeliveryFailedError extends GatewayError {
  readonly status = 502;
  readonly slug = "delivery-failed";
  readonly title = "Delivery failed";
  constructor(
    message: string,
    readonly attempt: Record<string, unknown>,
  ) {
    super(message);
  }
  override extensions() {
    return { attempt: this.attempt };
  }
}

/** The caller is authenticated but lacks admin permission (403). */
export function adminRequired(client: string): ForbiddenError {
  return new ForbiddenError(`client ${client} needs admin permission`);
}

/** Problem for errors that are not ours: never leaks a message or a stack. */
export function internalProblem(): Problem {
  return {
    type: PROBLEM_BASE + "internal",
    title: "Internal server error",
    status: 500,
    detail: "the gateway failed to handle this request; see its logs",
  };
}
