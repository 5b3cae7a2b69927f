/**
 * Browser-facing defaults: standard security headers on every response, and
 * CORS for the origins listed in `server.cors.origins` (none by default).
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { Config } from "./config.js";

/** Response headers scripts may read cross-origin. */
export const CORS_EXPOSE_HEADERS = ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "WWW-Authenticate", "Idempotency-Key"];

/** nosniff, frame denial, no referrer, HSTS when served over TLS, and friends. */
export function securityHeaders(server: Config["server"]): MiddlewareHandler {
  return secureHeaders({
    strictTransportSecurity: server.tls ? "max-age=31536000; includeSubDomains" : false,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    // The API is meant to be called cross-origin where CORS allows it.
    crossOriginResourcePolicy: "cross-origin",
  });
}

/** CORS for the configured origins, or undefined when none are configured. */
export function corsFor(server: Config["server"]): MiddlewareHandler | undefined {
  const origins = server.cors?.origins ?? [];
  if (origins.length === 0) return undefined;
  const any = origins.includes("*");
  return cors({
    origin: any ? "*" : origins,
    allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    // No fixed list: NatsH-* names are open-ended, so a preflight's requested
    // headers are echoed. The origin list is the boundary; tokens still apply.
    allowHeaders: [],
    exposeHeaders: CORS_EXPOSE_HEADERS,
    credentials: !any,
    maxAge: 600,
  });
}
