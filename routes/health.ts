/** `GET /healthz` (process alive) and `GET /readyz` (NATS connected and answering, streams in place). */
import { Hono } from "hono";
import type { CoreGateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { problemResponse } from "../src/http/problem.js";

/** Probe routes; they need no token so orchestrators can reach them. */
export function healthRoutes(gw: CoreGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const nats = { connected: gw.nats.connected, server: gw.nats.serverVersion() };
    if (gw.nats.ready) return c.json({ status: "ready", nats });
    return problemResponse(
      {
        type: "https://natsgate.dev/problems/not-ready",
        title: "Not ready",
        status: 503,
        detail: !nats.connected
          ? "NATS is not connected"
          : gw.nats.stalled
            ? `NATS is not answering: a ping has waited ${gw.nats.pingWaitingMs()} ms`
            : "configured JetStream streams are not in place yet",
        nats,
      },
      1,
    );
  });
  return app;
}
