/** Small HTTP helpers shared by the routes and the error handler. */
import type { Context } from "hono";
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
