/** `GET /v1/ws`: publish, subscribe and request over one WebSocket (JSON text frames). */
import { upgradeWebSocket } from "@hono/node-server";
import { Hono } from "hono";
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { claimSlot, limitKey } from "../src/security/rate-limit.js";
import { authenticate } from "../src/security/middleware.js";
import { WsSession } from "../src/subscribe/ws-session.js";
import { BadRequestError } from "../src/errors.js";
import { requestFields } from "../src/telemetry/http.js";

/** WebSocket routes (Node: @hono/node-server's built-in upgrade over the `ws` package). */
export function wsRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get(
    "/v1/ws",
    // Upgrade: websocket without Connection: upgrade never reaches the upgrade handler
    // (@hono/node-server answers such a request 500 with no body): say what is wrong.
    async function upgradeRequired(c, next) {
      const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
      const connection = /(^|,)\s*upgrade\s*(,|$)/i.test(c.req.header("connection") ?? "");
      if (!upgrade || !connection) throw new BadRequestError("GET /v1/ws is a WebSocket: send Upgrade: websocket and Connection: upgrade");
      await next();
    },
    authenticate(gw, { streams: true }),
    upgradeWebSocket((c) => {
      const principal = c.get("principal");
      const remote = c.get("remote");
      const ids = requestFields(c);
      // A socket is one stream against the client's cap; refusing here answers the upgrade with 429.
      const release = claimSlot(gw.streamSlots, limitKey(principal, remote));
      let session: WsSession | undefined;
      // A handshake that fails after this point never opens a session: its socket closing
      // gives the slot back (once a session is open, the session owns it).
      const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket;
      // (The client may already be gone: authentication can wait on a JWKS fetch.)
      if (socket?.destroyed) release();
      else socket?.once("close", () => session === undefined && release());
      return {
        onOpen(_evt, ws) {
          const s = new WsSession(gw, ws.raw as WebSocket, principal, remote, ids, () => {
            release();
            gw.wsSessions.delete(s);
          }, socket);
          session = s;
          gw.wsSessions.add(s);
        },
        onMessage(evt) {
          session?.handle(typeof evt.data === "string" ? evt.data : null);
        },
      };
    }),
  );
  return app;
}
