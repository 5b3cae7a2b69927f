/** Small HTTP helpers shared by the routes and the error handler. */
import type { Context } from "hono";
import type { RepeatLimitedLogger } from "../logger.js";
import { GatewayError, InvalidSubjectError, internalProblem, type Problem } from "../errors.js";

/** Media type of every error body. */
export const PROBLEM_JSON = "application/problem+json";

/** A problem+json response. */
export function problemResponse(problem: Problem, retryAfter?: number, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { ...extra, "content-type": PROBLEM_JSON };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  // The rest of an oversized body is never read, so the connection cannot be reused.
  if (problem.status === 413) headers.connection = "close";
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}

/** The response for any error thrown by a handler; unknown errors never leak details. */
export function errorResponse(err: unknown): Response {
  if (err instanceof GatewayError) return problemResponse(err.toProblem(), err.retryAfter, err.headers());
  return problemResponse(internalProblem());
}

/** Where a request failed, for the log line of a 5xx. */
export interface FailedRequest {
  method: string;
  path: string;
  /** The template of the route that served it. */
  route: string;
  requestId?: string;
  traceId?: string;
}

/** The response for a handler's error; a 5xx is also logged, at most once a while per error name and route. */
export function failureResponse(log: RepeatLimitedLogger, err: unknown, where: FailedRequest): Response {
  const res = errorResponse(err);
  if (res.status >= 500) {
    const { route, ...fields } = where;
    // By route template too: one known failure must not hide another route's.
    log.error(`${res.status} ${err instanceof Error ? err.name : typeof err} ${route}`, "request failed", { ...fields, status: res.status, err: describe(err) });
  }
  return res;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.name}: ${err.cause.message})` : "";
  return `${err.name}: ${err.message}${cause}`;
}

/**
 * The subject in a path like `/v1/publish/{subject}`, percent-decoded strictly.
 * Hono's own param decoding keeps undecodable input as it is; a subject with a
 * stray `%` must be refused instead, so the raw URL is decoded here.
 */
export function subjectParam(c: Context, prefix: string): string {
  const url = c.req.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  // The path ends at ? or #, as the router's does (a raw # in a request target is not part of it).
  const end = url.slice(start).search(/[?#]/);
  const path = end === -1 ? url.slice(start) : url.slice(start, start + end);
  // The subject starts after as many slashes as the prefix has, however the prefix itself was
  // spelled (`/v1/%70ublish/` routes here too, and must meet the same strict decoding).
  let cut = 0;
  for (let slashes = prefix.split("/").length - 1; slashes > 0; slashes--) {
    const next = path.indexOf("/", cut);
    if (next === -1) return "";
    cut = next + 1;
  }
  const raw = path.slice(cut);
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidSubjectError(raw, "it contains a percent sign that is not a valid %XX escape");
  }
}
