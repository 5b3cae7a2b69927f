/** `GET /metrics`: Prometheus text format; open to scrapers unless `metrics.token` is set. */
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { UnauthorizedError } from "../src/errors.js";
import { sha256, storedDigest, tokenFrom } from "../src/security/auth.js";

/** The metrics route. */
export function metricsRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const token = gw.config.metrics.token;
  // Compared as digests: constant time whatever the lengths, and the token may be stored hashed.
  const expected = token === undefined ? undefined : storedDigest(token);
  app.get("/metrics", async (c) => {
    if (expected) {
      const presented = tokenFrom(c.req.raw, false);
      if (!presented || !timingSafeEqual(sha256(presented), expected)) throw new UnauthorizedError("/metrics needs the metrics.token bearer token");
    }
    return c.body(await gw.metrics.text(), 200, { "content-type": gw.metrics.registry.contentType });
  });
  return app;
}
