/**
 * `GET /v1/me`: who the gateway takes the caller to be and what it may do, so a
 * client (the console first) can subscribe to everything it may see without the
 * user knowing its permissions, and can tell a missing or expired token (401)
 * from a refused subject (403).
 */
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { authenticate } from "../src/security/middleware.js";

/** The caller's identity and permissions as configured (reserved prefixes stay denied unless named). */
export function meRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/v1/me", authenticate(gw), (c) => {
    const p = c.get("principal");
    return c.json({
      name: p.name,
      kind: p.kind,
      admin: p.permissions.admin,
      publish: p.permissions.publish.rules,
      subscribe: p.permissions.subscribe.rules,
      ...(p.expiresAt !== undefined ? { expiresAt: new Date(p.expiresAt).toISOString() } : {}),
    });
  });
  return app;
}
