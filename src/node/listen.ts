/** Serving the app over HTTP or HTTPS on Node, resolving once listening. */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { serve } from "@hono/node-server";
import { WebSocketServer } from "ws";
import type { Config } from "../config/load.js";
import { securityHeaderListener } from "../http/security-headers.js";
import type { CoreGateway } from "../gateway.js";
import { fastPublish } from "./fast-publish.js";
import { takeOverResponse } from "./sse-output.js";

/** A listening server and its base URL. */
export interface Listening {
  server: Server;
  url: string;
  port: number;
}

/** Anything with a fetch handler (a Hono app); with its gateway, plain publishes take the fast path. */
export interface FetchApp {
  fetch: (req: Request, env: any) => Response | Promise<Response>;
  gateway?: CoreGateway;
}

/** Options for `listen`. */
export interface ListenOptions {
  /** Serve plain publishes from Node's request event (`fast-publish.ts`); default `server.fastPublish`. Off, Hono serves them. */
  fastPublish?: boolean;
  /** Told of each request the fast path took: tests prove it served what they compare. */
  onFastPublish?: (req: IncomingMessage) => void;
}

/** Listens on `server.host`:`server.port` (TLS when `server.tls` is set), with security headers on every response. */
export function listen(app: FetchApp, server: Config["server"], ws: Config["ws"], options: ListenOptions = {}): Promise<Listening> {
  const headers = securityHeaderListener(server);
  const fast = app.gateway && (options.fastPublish ?? server.fastPublish) ? fastPublish(app.gateway, server) : undefined;
  const tls: HttpsOptions | undefined = server.tls
    ? { cert: readFileSync(server.tls.cert), key: readFileSync(server.tls.key) }
    : undefined;
  const createServer = ((_options: unknown, handler: RequestListener) => {
    // Slow clients (a body trickled a byte at a time) are cut off, not held for Node's 300 s.
    // Both bound only receiving the request: SSE and WebSocket responses run as long as they like.
    // Node checks the deadlines every connectionsCheckingInterval (30 s by default).
    const timeouts = {
      requestTimeout: server.readTimeoutMs,
      headersTimeout: Math.min(server.headersTimeoutMs, server.readTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, server.headersTimeoutMs),
    };
    const s = tls ? createHttpsServer({ ...tls, ...timeouts }) : createHttpServer(timeouts);
    // One listener, so the security headers are in place before the app writes. The fast
    // path writes them itself, in one writeHead, rather than through five setHeader calls.
    const hono = (req: IncomingMessage, res: ServerResponse) => {
      headers(req, res);
      handler(req, res);
    };
    s.on(
      "request",
      fast
        ? (req: IncomingMessage, res: ServerResponse) => {
            if (fast(req, res)) options.onFastPublish?.(req);
            else hono(req, res);
          }
        : hono,
    );
    return s;
  }) as unknown as typeof createHttpServer;
  return new Promise((resolve, reject) => {
    // WebSocket upgrades (routes/ws.ts); the ws package closes oversized frames with 1009 itself.
    const websocket = { server: new WebSocketServer({ noServer: true, maxPayload: ws.maxFrameBytes }) };
    const s = serve({ fetch: takeOverResponse(app.fetch), port: server.port, hostname: server.host, createServer, websocket }, (info: AddressInfo) => {
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      resolve({ server: s as Server, port: info.port, url: `${server.tls ? "https" : "http"}://${host}:${info.port}` });
    });
    refuseOtherUpgrades(s as Server);
    s.once("error", reject);
  });
}

/**
 * @hono/node-server ignores an upgrade to anything but WebSocket (h2c, …): the
 * socket would stay open unanswered forever (no timeout applies to upgrades).
 * Such requests get 400 and a close. Its own listener stays the only one, since
 * it answers its rejections only when it is alone.
 */
function refuseOtherUpgrades(server: Server): void {
  const [original] = server.listeners("upgrade") as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  if (!original) return;
  server.removeAllListeners("upgrade");
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.headers.upgrade?.toLowerCase() === "websocket") return original.call(server, req, socket, head);
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
}
