/**
 * `GET /metrics` (Prometheus text format) and `GET /v1/stats` (the same numbers as
 * JSON, for the console's operations panel). Both are open to scrapers unless
 * `metrics.token` is set; then they take that token, and `/v1/stats` also takes
 * an admin client's credentials so the console works with the token it already has.
 */
import { timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { adminRequired, UnauthorizedError } from "../src/errors.js";
import { authenticate } from "../src/security/middleware.js";
import { sha256, storedDigest, tokenFrom } from "../src/security/auth.js";

/** The metrics routes. */
export function metricsRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const token = gw.config.metrics.token;
  // Compared as digests: constant time whatever the lengths, and the token may be stored hashed.
  const expected = token === undefined ? undefined : storedDigest(token);
  const hasMetricsToken = (c: Context<AppEnv>) => {
    const presented = tokenFrom(c.req.raw, false);
    return presented !== undefined && expected !== undefined && timingSafeEqual(sha256(presented), expected);
  };
  const admitAdmin = authenticate(gw);

  app.get("/metrics", async (c) => {
    if (expected && !hasMetricsToken(c)) throw new UnauthorizedError("/metrics needs the metrics.token bearer token");
    return c.body(await gw.metrics.text(), 200, { "content-type": gw.metrics.registry.contentType });
  });
  app.get(
    "/v1/stats",
    async (c, next) => {
      if (!expected || hasMetricsToken(c)) return next();
      return admitAdmin(c, async () => {
        const p = c.get("principal");
        if (!p.permissions.admin) throw adminRequired(p.name);
        await next();
      });
    },
    async (c) => c.json(await gw.metrics.snapshot(), 200, { "cache-control": "no-store" }),
  );
  return app;
}
