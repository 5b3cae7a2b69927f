/**
 * What every part of `/openapi.json` shares: how callers authenticate (security
 * schemes) and the refusals any authenticated route can give, with the headers
 * they carry, so each operation documents them the same way.
 */
import type { ErrorResponse } from "./openapi.js";

/** The security schemes: a bearer token or JWT, HTTP Basic, and the stream-only query and cookie forms. */
export const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", description: "A client token (auth.clients[].token) or a JWT" },
  basic: { type: "http", scheme: "basic", description: "A client's user and password (auth.clients[].user, .password)" },
  accessToken: { type: "apiKey", in: "query", name: "access_token", description: "Streams only: a bearer token (never a password) for clients that cannot set headers" },
  tokenCookie: { type: "apiKey", in: "cookie", name: "natsgate_token", description: "Streams only: a bearer token in a cookie" },
};

/**
 * Security of routes that take credentials. With `auth.mode: none` they take
 * none, which OpenAPI says with the empty alternative.
 */
export const TOKEN_SECURITY = [{ bearer: [] }, { basic: [] }, {}];
/** Security of the streams (SSE, WebSocket): the header forms, or a token in the query or a cookie. */
export const STREAM_SECURITY = [{ bearer: [] }, { basic: [] }, { accessToken: [] }, { tokenCookie: [] }, {}];
/** A route that never asks for credentials (probes, the console, this document). */
export const PUBLIC: object[] = [];

const retryAfter = { description: "Seconds to wait before trying again", schema: { type: "integer", minimum: 0 } };

/** The refusals of an authenticated route: 401 with its challenges, 429 with Retry-After and RateLimit-*. */
export function authResponses(err: ErrorResponse): Record<string, object> {
  return {
    "401": {
      ...err("No credentials, or wrong ones"),
      headers: { "WWW-Authenticate": { description: 'Bearer realm="natsgate", and Basic realm="natsgate", charset="UTF-8" where clients have passwords', schema: { type: "string" } } },
    },
    "429": {
      ...err("Rate limited, or too many failed sign-ins, streams or checks at once"),
      headers: {
        "Retry-After": retryAfter,
        "RateLimit-Limit": { description: "The burst of the client's rate limit (with rateLimit set)", schema: { type: "integer" } },
        "RateLimit-Remaining": { description: "Requests left in the burst", schema: { type: "integer" } },
      },
    },
  };
}

/** The refusals of an admin route: those of an authenticated one, and 403 for a client without admin permission. */
export function adminResponses(err: ErrorResponse): Record<string, object> {
  return { ...authResponses(err), "403": err("Not an admin client") };
}

/** A JSON response whose body is the component schema `ref`. */
export const jsonResponse = (ref: string, description: string) => ({ description, content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });

/** A 503 with Retry-After. */
export function unavailable(err: ErrorResponse, description: string): object {
  return { ...err(description), headers: { "Retry-After": retryAfter } };
}
