/**
 * The client's address, for audit records and per-address rate limits.
 * `X-Forwarded-For` counts only behind a proxy the operator said to trust.
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** The client's address; `X-Forwarded-For`'s first hop only when the proxy is trusted. */
export function remoteAddress(c: Context, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for");
    if (forwarded) return forwarded.split(",")[0]!.trim();
  }
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // In-process requests (app.request) have no socket.
    return undefined;
  }
}
