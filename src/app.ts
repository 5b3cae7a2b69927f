/**
 * `createApp(deps)`: the Hono application, built only from what it is given
 * (NATS client, config, schema registry, clock, logger), so tests run it
 * in-process with `app.request` or behind a real socket alike.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { consoleRoutes } from "../routes/console.js";
import { healthRoutes } from "../routes/health.js";
import { metricsRoutes } from "../routes/metrics.js";
import { hookRoutes } from "../routes/hooks.js";
import { meRoutes } from "../routes/me.js";
import { publishRoutes } from "../routes/publish.js";
import { requestRoutes } from "../routes/request.js";
import { schemaRoutes } from "../routes/schemas.js";
import { subscribeRoutes } from "../routes/subscribe.js";
import { webhookRoutes } from "../routes/webhooks.js";
import { wsRoutes } from "../routes/ws.js";
import type { AppEnv } from "./http/env.js";
import { NotFoundError } from "./errors.js";
import { createGateway, type AppDeps, type Gateway } from "./gateway.js";
import { errorResponse, problemResponse } from "./http/problem.js";
import { corsFor } from "./http/security-headers.js";
import { repeatLimited } from "./logger.js";
import { routePath } from "hono/route";
import { observeRequests, requestFields } from "./telemetry/http.js";

/** The Hono app plus the engine behind it (for lifecycle: ending streams on shutdown). */
export type GatewayApp = Hono<AppEnv> & { gateway: Gateway };

/** The HTTP application. */
export function createApp(deps: AppDeps): GatewayApp {
  const gw = createGateway(deps);
  const app = new Hono<AppEnv>();
  app.use(observeRequests(gw.tracing, gw.metrics));
  const corsMiddleware = corsFor(deps.config.server);
  if (corsMiddleware) app.use(corsMiddleware);
  app.route("/", healthRoutes(gw));
  app.route("/", metricsRoutes(gw));
  app.route("/v1/publish", publishRoutes(gw));
  app.route("/v1/request", requestRoutes(gw));
  app.route("/", subscribeRoutes(gw));
  app.route("/", wsRoutes(gw));
  app.route("/", hookRoutes(gw));
  app.route("/", webhookRoutes(gw));
  app.route("/", meRoutes(gw));
  app.route("/", consoleRoutes(gw));
  app.route("/", schemaRoutes(gw));
  app.notFound((c) => errorResponse(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`)));
  const logFailure = repeatLimited((msg, fields) => gw.logger.error(msg, fields), gw.clock.now);
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      return problemResponse({
        type: "about:blank",
        title: err.message || "HTTP error",
        status: err.status,
        detail: err.message || `HTTP ${err.status}`,
      });
    }
    const res = errorResponse(err);
    if (res.status >= 500) {
      const fields = { method: c.req.method, path: c.req.path, status: res.status, err: describe(err), ...requestFields(c) };
      // By route template too: one known failure must not hide another route's.
      logFailure(`${res.status} ${err instanceof Error ? err.name : typeof err} ${routePath(c, -1)}`, "request failed", fields);
    }
    return res;
  });
  return Object.assign(app, { gateway: gw });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.name}: ${err.cause.message})` : "";
  return `${err.name}: ${err.message}${cause}`;
}
