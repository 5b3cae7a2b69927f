/**
 * The sessions API (admin permission): `GET /v1/connections` lists this
 * replica's live SSE and WebSocket sessions, a page at a time, optionally of
 * one client; `DELETE /v1/connections/{id}` ends one cleanly (SSE with
 * `event: shutdown`, WebSocket with 1001), so its client resumes from its cursor.
 */
import { Hono, type Context } from "hono";
import type { CoreGateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { BadRequestError, NotFoundError } from "../src/errors.js";
import { adminOnly } from "../src/security/middleware.js";
import { CONNECTION_ID, type Connection } from "../src/subscribe/connections.js";

/** Default and largest page of `GET /v1/connections`. */
export const DEFAULT_CONNECTIONS_PAGE = 100;
export const MAX_CONNECTIONS_PAGE = 1_000;

function pageSize(c: Context<AppEnv>): number {
  const raw = c.req.query("limit");
  if (raw === undefined) return DEFAULT_CONNECTIONS_PAGE;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_CONNECTIONS_PAGE) throw new BadRequestError(`limit must be an integer from 1 to ${MAX_CONNECTIONS_PAGE}`);
  return n;
}

/** A session as the API shows it. */
function view(c: Connection) {
  return {
    id: c.id,
    client: c.client,
    clientKind: c.clientKind,
    remote: c.remote ?? null,
    transport: c.transport,
    subjects: c.stats.subjects(),
    connectedAt: new Date(c.connectedAt).toISOString(),
    sent: c.stats.sent,
    dropped: c.stats.dropped,
    // Messages for SSE, bytes for WebSocket (what the socket holds unsent).
    buffered: c.stats.buffered(),
  };
}

/** Sessions routes. */
export function connectionRoutes(gw: CoreGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const path of ["/v1/connections", "/v1/connections/*"]) {
    // The record of a DELETE names the session it ended.
    app.use(path, ...adminOnly(gw, (c) => (c.req.path.split("/")[3] ? `connection:${c.req.path.split("/")[3]}` : "connections")));
  }
  app.get("/v1/connections", (c) => {
    const after = c.req.query("after");
    if (after !== undefined && !CONNECTION_ID.test(after)) throw new BadRequestError("after must be a connection id from an earlier page (its next)");
    // An empty client= is no filter, as an empty search box would be.
    const { page, next } = gw.connections.list({ client: c.req.query("client") || undefined, after, limit: pageSize(c) });
    return c.json({ connections: page.map(view), ...(next ? { next } : {}) }, 200, { "cache-control": "no-store" });
  });
  app.delete("/v1/connections/:id", (c) => {
    const conn = gw.connections.get(c.req.param("id"));
    if (!conn) throw new NotFoundError(`no live connection ${c.req.param("id")} on this replica`);
    conn.stats.end();
    return c.body(null, 204);
  });
  return app;
}
