/**
 * Browser-facing defaults: standard security headers on every response, and
 * CORS for the origins listed in `server.cors.origins` (none by default).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { Config } from "../config/load.js";

/** Response headers scripts may read cross-origin. */
// Date: @natsgate/client reads the gateway's clock from it to resume a subscription by time.
export const CORS_EXPOSE_HEADERS = ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "WWW-Authenticate", "Idempotency-Key", "Date"];

/** nosniff, no framing, no referrer, no legacy XSS filter, HSTS when served over TLS. */
export function securityHeaderPairs(server: Config["server"]): [string, string][] {
  const pairs: [string, string][] = [
    ["X-Content-Type-Options", "nosniff"],
    ["X-Frame-Options", "DENY"],
    ["Referrer-Policy", "no-referrer"],
    ["X-XSS-Protection", "0"],
    ["X-Permitted-Cross-Domain-Policies", "none"],
  ];
  if (server.tls) pairs.push(["Strict-Transport-Security", "max-age=31536000; includeSubDomains"]);
  return pairs;
}

/**
 * A Node `request` listener that sets the security headers before the app runs.
 * Setting them on the Node response (merged by writeHead) rather than in Hono
 * middleware keeps @hono/node-server's fast path: touching `c.res.headers`
 * after the handler forces a full Response and Headers object per request,
 * which cost about a quarter of publish throughput when measured.
 */
export function securityHeaderListener(server: Config["server"]): (req: IncomingMessage, res: ServerResponse) => void {
  const pairs = securityHeaderPairs(server);
  return function securityHeaders(_req, res) {
    for (const [name, value] of pairs) res.setHeader(name, value);
  };
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
