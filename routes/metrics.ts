/**
 * `GET /metrics` (Prometheus text format) and `GET /v1/stats` (the same numbers as
 * JSON, for the console's operations panel). Both are open to scrapers unless
 * `metrics.token` is set; then they take that token, and `/v1/stats` also takes
 * an admin client's credentials (audited) so the console works with the token it
 * already has — when auth is on: with auth off nobody is a client to check.
 */
import { timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { Metrics } from "../src/telemetry/metrics.js";
import type { AppEnv } from "../src/http/env.js";
import { adminRequired, UnauthorizedError } from "../src/errors.js";
import { authenticate } from "../src/security/middleware.js";
import { who } from "../src/security/audit.js";
import { requestFields } from "../src/telemetry/http.js";
import { sha256, storedDigest, tokenFrom } from "../src/security/auth.js";

/** The metrics routes. */
export function metricsRoutes(gw: Gateway, metrics: Metrics): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const token = gw.config.metrics.token;
  // Compared as digests: constant time whatever the lengths, and the token may be stored hashed.
  const expected = token === undefined ? undefined : storedDigest(token);
  const hasMetricsToken = (c: Context<AppEnv>) => {
    const presented = tokenFrom(c.req.raw, false);
    return presented !== undefined && expected !== undefined && timingSafeEqual(sha256(presented), expected);
  };
  const admitClient = authenticate(gw);
  /** An admin client's read of /v1/stats, audited like the other admin routes. */
  const admitAdmin = async (c: Context<AppEnv>) => {
    await admitClient(c, async () => {});
    const p = c.get("principal");
    const admin = p.permissions.admin;
    gw.audit.record({ action: "admin", outcome: admin ? "ok" : "denied", status: admin ? 200 : 403, ...who(p), remote: c.get("remote"), resource: "stats", ...requestFields(c) });
    if (!admin) throw adminRequired(p.name);
  };

  app.get("/metrics", async (c) => {
    if (expected && !hasMetricsToken(c)) throw new UnauthorizedError("/metrics needs the metrics.token bearer token");
    return c.body(await metrics.text(), 200, { "content-type": metrics.registry.contentType });
  });
  app.get(
    "/v1/stats",
    async (c, next) => {
      if (!expected || hasMetricsToken(c)) return next();
      // With auth off every caller is an anonymous admin: then only the metrics token opens it.
      if (!gw.auth.required) throw new UnauthorizedError("/v1/stats needs the metrics.token bearer token");
      await admitAdmin(c);
      await next();
    },
    async (c) => c.json(await metrics.snapshot(), 200, { "cache-control": "no-store" }),
  );
  return app;
}
