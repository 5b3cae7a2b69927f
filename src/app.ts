/**
 * `createApp(deps)`: the Node application, built only from what it is given
 * (NATS client, config, schema registry, clock, logger), so tests run it
 * in-process with `app.request` or behind a real socket alike. It is the core
 * app every runtime serves plus what needs Node: the webhook dispatcher and its
 * admin API, WebSocket, inbound hooks, the console, schemas and /metrics.
 */
import type { Hono } from "hono";
import { consoleRoutes } from "../routes/console.js";
import { metricsRoutes } from "../routes/metrics.js";
import { hookRoutes } from "../routes/hooks.js";
import { meRoutes } from "../routes/me.js";
import { schemaRoutes } from "../routes/schemas.js";
import { webhookRoutes } from "../routes/webhooks.js";
import { wsRoutes } from "../routes/ws.js";
import { connectionRoutes } from "../routes/connections.js";
import type { AppEnv } from "./http/env.js";
import { createCoreApp } from "./core-app.js";
import { createCoreGateway, type AppDeps, type CoreGateway, type Gateway } from "./gateway.js";
import { Metrics } from "./telemetry/metrics.js";
import { WebhookService } from "./webhooks/service.js";
import { nodePeerAddress } from "./node/peer-address.js";
import { nodeSseOutput } from "./node/sse-output.js";

/** The Hono app plus the engine behind it (for lifecycle: ending streams on shutdown) and its metrics. */
export type GatewayApp = Hono<AppEnv> & { gateway: Gateway; metrics: Metrics };

/** The HTTP application. */
export function createApp(deps: AppDeps): GatewayApp {
  const gw = createGateway(deps);
  const app = createCoreApp(gw);
  app.route("/", metricsRoutes(gw, gw.metrics));
  app.route("/", wsRoutes(gw));
  app.route("/", hookRoutes(gw));
  app.route("/", webhookRoutes(gw));
  app.route("/", meRoutes(gw));
  app.route("/", consoleRoutes(gw));
  app.route("/", schemaRoutes(gw));
  app.route("/", connectionRoutes(gw));
  return Object.assign(app, { gateway: gw, metrics: gw.metrics });
}

/** The core engine with Prometheus metrics and the webhook dispatcher, started. */
function createGateway(deps: AppDeps): Gateway & { metrics: Metrics } {
  // The gauges read the engine when scraped; it exists by then.
  let core!: CoreGateway;
  const metrics = new Metrics({
    sseConnections: () => core.sessions.size,
    wsConnections: () => core.wsSessions.size,
    natsConnected: () => deps.nats.connected,
    natsStalled: () => deps.nats.stalled,
    natsReconnects: () => deps.nats.reconnects,
    sessionMessages: (transport, outcome) => core.connections.total(transport, outcome),
    sessionBuffered: (transport) => core.connections.buffered(transport),
  });
  core = createCoreGateway({ peerAddress: nodePeerAddress, sseOutput: nodeSseOutput, ...deps }, metrics);
  const webhooks = new WebhookService({ config: deps.config, nats: deps.nats, clock: core.clock, logger: core.logger, tracing: core.tracing, metrics });
  webhooks.start();
  return Object.assign(core, { webhooks, metrics });
}
