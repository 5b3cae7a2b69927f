/**
 * Request middleware shared by the resource routes: authentication and rate
 * limiting (`authenticate`), and the audit record of what was done
 * (`auditTrail`). Routes add these; the checks live here once.
 */
import { requestFields } from "../telemetry/http.js";
import type { Context, MiddlewareHandler } from "hono";
import type { CoreGateway } from "../gateway.js";
import type { AppEnv } from "../http/env.js";
import { remoteAddress } from "../http/remote.js";
import { outcomeOf, who, type AuditAction } from "./audit.js";
import { tokenFrom } from "./auth.js";
import { adminRequired, UnauthorizedError } from "../errors.js";
import { chargeRequest, limitKey } from "./rate-limit.js";

/** Options for `authenticate`. */
export interface AuthenticateOptions {
  /** Streams (SSE, WebSocket) also take the token from `access_token` or the `natsgate_token` cookie. */
  streams?: boolean;
}

/** Authenticates the caller, then charges its rate limit. */
export const authenticate = (gw: CoreGateway, { streams = false }: AuthenticateOptions = {}): MiddlewareHandler<AppEnv> =>
  async function authenticate(c, next) {
    const remote = remoteAddress(c, gw.config.server.trustProxy, gw.peerAddress);
    c.set("remote", remote);
    let principal;
    try {
      principal = await gw.auth.authenticate(tokenFrom(c.req.raw, streams));
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
      // Failed attempts spend the address's budget: guessing tokens slows down to the rate limit.
      try {
        chargeRequest(gw.limiter, `auth-failure:${remote ?? "local"}`);
      } catch (limited) {
        gw.audit.record({ action: "auth", outcome: "limited", status: 429, remote, detail: err.message, ...requestFields(c) });
        throw limited;
      }
      gw.audit.record({ action: "auth", outcome: "unauthenticated", status: 401, remote, detail: err.message, ...requestFields(c) });
      throw err;
    }
    c.set("principal", principal);
    let remaining: number | undefined;
    try {
      remaining = chargeRequest(gw.limiter, limitKey(principal, remote));
    } catch (err) {
      gw.audit.record({ action: "auth", outcome: "limited", status: 429, ...who(principal), remote, ...requestFields(c) });
      throw err;
    }
    if (remaining !== undefined) {
      c.header("ratelimit-limit", String(gw.limiter!.burst));
      c.header("ratelimit-remaining", String(remaining));
    }
    await next();
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
    const note = c.get("audit");
    const status = c.res.status;
    gw.audit.record({
      action,
      outcome: outcomeOf(status),
      status,
      ...who(c.get("principal")),
      remote: c.get("remote"),
      ...requestFields(c),
      ...note,
    });
  };
