/**
 * `createCoreApp(gw)`: the HTTP application every runtime serves — probes,
 * publish, request and SSE subscribe — with the request telemetry, CORS, and
 * the one `onError` that turns the error taxonomy into problem+json. Node's
 * `createApp` mounts its own routes (WebSocket, webhooks, console, metrics) on it.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { healthRoutes } from "../routes/health.js";
import { publishRoutes } from "../routes/publish.js";
import { requestRoutes } from "../routes/request.js";
import { subscribeRoutes } from "../routes/subscribe.js";
import type { AppEnv } from "./http/env.js";
import { NotFoundError } from "./errors.js";
import type { CoreGateway } from "./gateway.js";
import { errorResponse, failureResponse, problemResponse } from "./http/problem.js";
import { corsFor } from "./http/security-headers.js";
import { observeRequests, requestFields } from "./telemetry/http.js";

/** The application shared by Node and Workers. */
export function createCoreApp(gw: CoreGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(observeRequests(gw.tracing, gw.metrics));
  const corsMiddleware = corsFor(gw.config.server);
  if (corsMiddleware) app.use(corsMiddleware);
  app.route("/", healthRoutes(gw));
  app.route("/v1/publish", publishRoutes(gw));
  app.route("/v1/request", requestRoutes(gw));
  app.route("/", subscribeRoutes(gw));
  app.notFound((c) => errorResponse(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      return problemResponse({
        type: "about:blank",
        title: err.message || "HTTP error",
        status: err.status,
        detail: err.message || `HTTP ${err.status}`,
      });
    }
    return failureResponse(gw.limitedLog, err, { method: c.req.method, path: c.req.path, route: routePath(c, -1), ...requestFields(c) });
  });
  return app;
}
