/**
 * `createApp(deps)`: the Hono application, built only from what it is given
 * (NATS client, config, schema registry, clock, logger), so tests run it
 * in-process with `app.request` or behind a real socket alike.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { SchemaRegistry } from "./events/registry.js";
import { consoleRoutes } from "../routes/console.js";
import { healthRoutes } from "../routes/health.js";
import { hookRoutes } from "../routes/hooks.js";
import { publishRoutes } from "../routes/publish.js";
import { requestRoutes } from "../routes/request.js";
import { schemaRoutes } from "../routes/schemas.js";
import { subscribeRoutes } from "../routes/subscribe.js";
import { webhookRoutes } from "../routes/webhooks.js";
import { wsRoutes } from "../routes/ws.js";
import type { AppEnv } from "./http/env.js";
import { AuditLog } from "./security/audit.js";
import { Authenticator } from "./security/auth.js";
import type { Config } from "./config/load.js";
import { NotFoundError } from "./errors.js";
import type { EventRules } from "./events/event.js";
import { errorResponse, problemResponse } from "./http/problem.js";
import { silentLogger, type Logger } from "./logger.js";
import type { NatsClient } from "./nats/client.js";
import { Publisher } from "./publish/publisher.js";
import { corsFor } from "./http/security-headers.js";
import { SseHub } from "./subscribe/hub.js";
import type { SseSession } from "./subscribe/sse-session.js";
import { WS_CLOSE, type WsSession } from "./subscribe/ws-session.js";
import { StreamSlots, TokenBuckets } from "./security/rate-limit.js";
import { WebhookService } from "./webhooks/service.js";

/** Body limit used until the server's max_payload is known: 1 MiB, NATS's default. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Time source, injectable for tests. */
export interface Clock {
  now(): number;
}

/** What `createApp` needs. */
export interface AppDeps {
  config: Config;
  nats: NatsClient;
  registry: SchemaRegistry;
  clock?: Clock;
  logger?: Logger;
  /** Where audit lines go (default: stdout). */
  auditWrite?: (line: string) => void;
}

/** The engine pieces routes share. */
export interface Gateway {
  config: Config;
  nats: NatsClient;
  registry: SchemaRegistry;
  publisher: Publisher;
  rules: EventRules;
  clock: Clock;
  logger: Logger;
  auth: Authenticator;
  audit: AuditLog;
  /** Per-client request rate, when `rateLimit` is set. */
  limiter: TokenBuckets | undefined;
  /** Per-client concurrent streams, when `rateLimit` is set. */
  streamSlots: StreamSlots | undefined;
  /** SSE fan-out. */
  sse: SseHub;
  /** Open SSE sessions (ended on shutdown). */
  sessions: Set<SseSession>;
  /** Open WebSocket sessions (closed on shutdown). */
  wsSessions: Set<WsSession>;
  /** Outbound webhooks: registry, delivery workers, admin operations. */
  webhooks: WebhookService;
  /** Ends every stream (SIGTERM) so in-flight HTTP can drain. */
  endStreams(): void;
  /** Largest single event body: `server.maxBodyBytes`, never above the server's max_payload. */
  bodyLimit(): number;
}

/** Builds the gateway's engine from its dependencies. */
export function createGateway(deps: AppDeps): Gateway {
  const { config, nats, registry } = deps;
  const configured = config.server.maxBodyBytes;
  const clock = deps.clock ?? { now: () => Date.now() };
  const logger = deps.logger ?? silentLogger;
  const now = () => clock.now();
  const webhooks = new WebhookService({ config, nats, clock, logger });
  webhooks.start();
  return {
    config,
    nats,
    registry,
    publisher: new Publisher(nats),
    rules: { registry, strict: config.schemas.strict },
    clock,
    logger,
    auth: new Authenticator(config.auth, logger, now),
    audit: new AuditLog(config.audit, nats, deps.auditWrite, now),
    limiter: config.rateLimit ? new TokenBuckets(config.rateLimit.perSecond, config.rateLimit.burst, now) : undefined,
    // Like the request rate, stream caps apply only when rateLimit is configured: an anonymous
    // per-IP cap would otherwise limit every client behind one proxy together.
    streamSlots: config.rateLimit ? new StreamSlots(config.rateLimit.maxStreams) : undefined,
    sse: new SseHub(nats, now),
    sessions: new Set(),
    wsSessions: new Set(),
    webhooks,
    endStreams() {
      for (const s of [...this.sessions]) s.end("shutdown");
      for (const w of [...this.wsSessions]) w.close(WS_CLOSE.goingAway, "server shutting down");
      this.sse.close();
    },
    bodyLimit() {
      const max = nats.maxPayload() ?? DEFAULT_MAX_PAYLOAD;
      return configured === undefined ? max : Math.min(configured, max);
    },
  };
}

/** The Hono app plus the engine behind it (for lifecycle: ending streams on shutdown). */
export type GatewayApp = Hono<AppEnv> & { gateway: Gateway };

/** The HTTP application. */
export function createApp(deps: AppDeps): GatewayApp {
  const gw = createGateway(deps);
  const app = new Hono<AppEnv>();
  const corsMiddleware = corsFor(deps.config.server);
  if (corsMiddleware) app.use(corsMiddleware);
  app.route("/", healthRoutes(gw));
  app.route("/v1/publish", publishRoutes(gw));
  app.route("/v1/request", requestRoutes(gw));
  app.route("/", subscribeRoutes(gw));
  app.route("/", wsRoutes(gw));
  app.route("/", hookRoutes(gw));
  app.route("/", webhookRoutes(gw));
  app.route("/", consoleRoutes(gw));
  app.route("/", schemaRoutes(gw));
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
    const res = errorResponse(err);
    if (res.status >= 500) {
      gw.logger.error("request failed", { method: c.req.method, path: c.req.path, status: res.status, err: describe(err) });
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
