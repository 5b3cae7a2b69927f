/** Serving the app over HTTP or HTTPS on Node, resolving once listening. */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Config } from "./config.js";

/** A listening server and its base URL. */
export interface Listening {
  server: Server;
  url: string;
  port: number;
}

/** Listens on `server.host`:`server.port` (TLS when `server.tls` is set). */
export function listen(app: { fetch: (req: Request, env: any) => Response | Promise<Response> }, server: Config["server"]): Promise<Listening> {
  const tls = server.tls
    ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(server.tls.cert), key: readFileSync(server.tls.key) } }
    : {};
  return new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: server.port, hostname: server.host, ...tls }, (info: AddressInfo) => {
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      resolve({ server: s as Server, port: info.port, url: `${server.tls ? "https" : "http"}://${host}:${info.port}` });
    });
    s.once("error", reject);
  });
}
