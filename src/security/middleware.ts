/**
 * Request middleware shared by the resource routes: authentication and rate
 * limiting (`authenticate`), and the audit record of what was done
 * (`auditTrail`). Routes add these; the checks live here once.
 */
import { requestFields, type RequestIds } from "../telemetry/http.js";
import type { Context, MiddlewareHandler } from "hono";
import type { CoreGateway } from "../gateway.js";
import type { AppEnv, AuditNote } from "../http/env.js";
import { remoteAddress } from "../http/remote.js";
import { outcomeOf, who, type AuditAction } from "./audit.js";
import { browserContext, credentialsFrom, crossSiteBrowser, type BrowserContext, type Presented, type Principal } from "./auth.js";
import { adminRequired, AuthBusyError, RateLimitedError, UnauthorizedError } from "../errors.js";
import { chargeRequest, failureKey, limitKey } from "./rate-limit.js";

/** Options for `authenticate`. */
export interface AuthenticateOptions {
  /** Streams (SSE, WebSocket) also take a bearer token (never a password) from `access_token` or the `natsgate_token` cookie. */
  streams?: boolean;
}

/** Who called and what is left of its rate limit. */
export interface Caller {
  principal: Principal;
  /** Requests left in the burst; undefined without a rate limit. */
  remaining: number | undefined;
}

/**
 * Authenticates a token or a user and password, then charges the caller's rate
 * limit; every refusal is audited (never with the secret). Refused tokens spend
 * the address's request budget, so guessing slows down to the rate limit. A
 * password is checked behind budgets of its own (`password-attempts.ts`), which
 * it reserves before scrypt runs, so guesses cannot buy hashing time past them
 * however many run at once. `browser` (the request's Fetch Metadata and Origin)
 * refuses a password sent from another site's page and keeps browsers from
 * being offered a Basic prompt.
 */
export async function authenticateCaller(gw: CoreGateway, presented: Presented, remote: string | undefined, ids: RequestIds, browser?: BrowserContext): Promise<Caller> {
  const password = typeof presented === "object" && gw.auth.required;
  let principal;
  try {
    if (password && browser && crossSiteBrowser(browser, gw.config.server.cors?.origins ?? [])) {
      // No Basic challenge: it would prompt the browser on another site's behalf.
      throw new UnauthorizedError("a password is not taken from another site's page; sign in from the gateway's own origin or a listed CORS origin");
    }
    principal = await gw.auth.authenticate(presented, { remote, attempts: gw.passwordAttempts });
  } catch (err) {
    if (err instanceof RateLimitedError) {
      gw.audit.record({ action: "auth", outcome: "limited", status: 429, remote, detail: err.message, ...ids });
    }
    if (err instanceof AuthBusyError) gw.audit.record({ action: "auth", outcome: "failed", status: 503, remote, detail: err.message, ...ids });
    if (!(err instanceof UnauthorizedError)) throw err;
    // A password that was checked has spent its own failure budgets already.
    if (!(password && gw.auth.acceptsPasswords)) {
      try {
        chargeRequest(gw.limiter, failureKey(remote));
      } catch (limited) {
        gw.audit.record({ action: "auth", outcome: "limited", status: 429, remote, detail: err.message, ...ids });
        throw limited;
      }
    }
    gw.audit.record({ action: "auth", outcome: "unauthenticated", status: 401, remote, detail: err.message, ...ids });
    // A browser offered Basic shows its own login dialog, then sends the password everywhere.
    if (err.basic && browser?.browser && !password) throw new UnauthorizedError(err.message, false, { cause: err.cause });
    throw err;
  }
  try {
    return { principal, remaining: chargeRequest(gw.limiter, limitKey(principal, remote)) };
  } catch (err) {
    gw.audit.record({ action: "auth", outcome: "limited", status: 429, ...who(principal), remote, ...ids });
    throw err;
  }
}

/** The RateLimit-* headers of a charged request (none without a rate limit). */
export function rateLimitHeaders(gw: CoreGateway, remaining: number | undefined): [string, string][] {
  return remaining === undefined ? [] : [["ratelimit-limit", String(gw.limiter!.burst)], ["ratelimit-remaining", String(remaining)]];
}

/** Authenticates the caller, then charges its rate limit. */
export const authenticate = (gw: CoreGateway, { streams = false }: AuthenticateOptions = {}): MiddlewareHandler<AppEnv> =>
  async function authenticate(c, next) {
    const remote = remoteAddress(c, gw.config.server.trustProxy, gw.peerAddress);
    c.set("remote", remote);
    const headers = c.req.raw.headers;
    const { principal, remaining } = await authenticateCaller(gw, credentialsFrom(c.req.raw, streams), remote, requestFields(c), browserContext((n) => headers.get(n)));
    c.set("principal", principal);
    const limits = rateLimitHeaders(gw, remaining);
    for (const [name, value] of limits) c.header(name, value);
    await next();
    // onError makes an error's response afresh, without them: a refused request spent its token too.
    if (c.res.status >= 400 && limits.length > 0 && !c.res.headers.has("ratelimit-limit")) {
      try {
        for (const [name, value] of limits) c.res.headers.set(name, value);
      } catch {
        // An upgrade's response has immutable headers.
      }
    }
  };

/**
 * The admin API's guard: authentication, the audit record of the `resource` the
 * request acts on, and 403 for a client without admin permission.
 */
export const adminOnly = (gw: CoreGateway, resource: (c: Context<AppEnv>) => string): MiddlewareHandler<AppEnv>[] => [
  authenticate(gw),
  auditTrail(gw, "admin"),
  async function adminOnly(c, next) {
    c.set("audit", { resource: resource(c) });
    if (!c.get("principal").permissions.admin) throw adminRequired(c.get("principal").name);
    await next();
  },
];

/** Records the request's outcome in the audit log once the response is known. */
export const auditTrail = (gw: CoreGateway, action: AuditAction): MiddlewareHandler<AppEnv> =>
  async function auditTrail(c, next) {
    await next();
    auditOutcome(gw, action, c.res.status, c.get("principal"), c.get("remote"), requestFields(c), c.get("audit"));
  };

/** The audit record of a served request: who, from where, its status and what the handler noted. */
export function auditOutcome(
  gw: CoreGateway,
  action: AuditAction,
  status: number,
  principal: Principal | undefined,
  remote: string | undefined,
  ids: RequestIds,
  note: AuditNote | undefined,
): void {
  gw.audit.record({ action, outcome: outcomeOf(status), status, ...who(principal), remote, ...ids, ...note });
}
