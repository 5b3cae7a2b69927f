/**
 * The gateway's engine: every piece the routes share (publisher, auth, hubs),
 * built once from injected dependencies (`AppDeps`). This is the part every
 * runtime has (`CoreGateway`); Node adds the webhook dispatcher (`Gateway`, put
 * together in `app.ts`). Routes and features depend on this file; only the apps
 * know the routes.
 */
import type { SchemaRegistry } from "./events/registry.js";
import { AuditLog } from "./security/audit.js";
import { Authenticator } from "./security/auth.js";
import type { Config } from "./config/load.js";
import type { EventRules } from "./events/event.js";
import { repeatLimitedLogger, silentLogger, type Logger, type RepeatLimitedLogger } from "./logger.js";
import type { NatsClient } from "./nats/client.js";
import { Publisher } from "./publish/publisher.js";
import type { TracerProvider } from "@opentelemetry/api";
import { Tracing } from "./telemetry/tracing.js";
import type { MetricsRecorder } from "./telemetry/recorder.js";
import type { PeerAddress } from "./http/remote.js";
import { SseHub } from "./subscribe/hub.js";
import type { SseSession } from "./subscribe/sse-session.js";
import type { SseOutputFor } from "./subscribe/sse-output.js";
import { WS_CLOSE, type WsSession } from "./subscribe/ws-session.js";
import { ClientSlots, TokenBuckets } from "./security/rate-limit.js";
import { PasswordAttempts } from "./security/password-attempts.js";
import { Connections } from "./subscribe/connections.js";
import type { WebhookService } from "./webhooks/service.js";
import { webhookInternalStreams, webhookInternalSubjects } from "./webhooks/internal.js";

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
  /** Where spans go; the global provider (a no-op without an SDK) by default. */
  tracerProvider?: TracerProvider;
  /** The connection's remote address as the runtime sees it (Node: the socket; default: none). */
  peerAddress?: PeerAddress;
  /** Where an SSE response's frames are written when the runtime can take them directly (Node); default: Hono's stream. */
  sseOutput?: SseOutputFor;
}

/** The engine pieces routes share on every runtime. */
export interface CoreGateway {
  config: Config;
  nats: NatsClient;
  registry: SchemaRegistry;
  publisher: Publisher;
  /** Spans and W3C trace context propagation. */
  tracing: Tracing;
  /** Where the features' numbers go (Prometheus on Node). */
  metrics: MetricsRecorder;
  /** The connection's remote address as the runtime sees it. */
  peerAddress: PeerAddress;
  /** The runtime's direct SSE output for a request, if it has one. */
  sseOutput: SseOutputFor;
  rules: EventRules;
  clock: Clock;
  logger: Logger;
  /** For lines a client can repeat at will (failed requests, failed frames): one per kind per window. */
  limitedLog: RepeatLimitedLogger;
  auth: Authenticator;
  audit: AuditLog;
  /** Per-client request rate, when `rateLimit` is set. */
  limiter: TokenBuckets | undefined;
  /** The guard on password checks (failure budgets per address, user and gateway; checks in flight); always on. */
  passwordAttempts: PasswordAttempts;
  /** Open SSE streams and WebSocket sockets per client (limits.maxStreamsPerClient). */
  streamSlots: ClientSlots;
  /** SSE streams and WebSocket subscriptions per client (limits.maxSubscriptionsPerClient). */
  subscriptionSlots: ClientSlots;
  /** SSE fan-out. */
  sse: SseHub;
  /** Open SSE sessions (ended on shutdown). */
  sessions: Set<SseSession>;
  /** Open WebSocket sessions (closed on shutdown). */
  wsSessions: Set<WsSession>;
  /** Every live SSE and WebSocket session, for the sessions API and metrics. */
  connections: Connections;
  /** Ends every stream (SIGTERM) so in-flight HTTP can drain. */
  endStreams(): void;
  /** Largest single event body: `server.maxBodyBytes`, never above the server's max_payload. */
  bodyLimit(): number;
}

/** The Node engine: the core plus outbound webhooks. */
export interface Gateway extends CoreGateway {
  /** Outbound webhooks: registry, delivery workers, admin operations. */
  webhooks: WebhookService;
}

/** What outlives one NATS connection: who clients are and what they have spent. */
export type ClientState = Pick<CoreGateway, "auth" | "limiter" | "passwordAttempts" | "streamSlots" | "subscriptionSlots">;

/**
 * Authentication (with its JWKS cache), rate-limit buckets and stream slots.
 * Node builds them once with the engine; Workers, which makes an engine per
 * request, builds them once per isolate so limits hold across requests.
 */
export function clientState(config: Config, logger: Logger, now: () => number): ClientState {
  const limiter = config.rateLimit ? new TokenBuckets(config.rateLimit.perSecond, config.rateLimit.burst, now) : undefined;
  return {
    auth: new Authenticator(config.auth, logger, { now, internal: webhookInternalSubjects(config) }),
    limiter,
    passwordAttempts: new PasswordAttempts({ perAddress: PasswordAttempts.perAddress(config.rateLimit), now }),
    // Always on, unlike the request rate: an open stream holds memory and a NATS subscription or
    // consumer, so a client without a rate limit must not be able to open thousands.
    streamSlots: new ClientSlots(config.rateLimit?.maxStreams ?? config.limits.maxStreamsPerClient, "concurrent streams"),
    subscriptionSlots: new ClientSlots(config.limits.maxSubscriptionsPerClient, "subscriptions"),
  };
}

/** Builds the engine every runtime shares from its dependencies; its numbers go to `metrics`. */
export function createCoreGateway(deps: AppDeps, metrics: MetricsRecorder, clients?: ClientState): CoreGateway {
  const { config, nats, registry } = deps;
  const configured = config.server.maxBodyBytes;
  const clock = deps.clock ?? { now: () => Date.now() };
  const logger = deps.logger ?? silentLogger;
  const now = () => clock.now();
  const tracing = new Tracing(deps.tracerProvider, { natsServer: () => nats.server() });
  const sessions = new Set<SseSession>();
  const wsSessions = new Set<WsSession>();
  return {
    config,
    nats,
    registry,
    publisher: new Publisher(nats, tracing, metrics),
    tracing,
    metrics,
    peerAddress: deps.peerAddress ?? (() => undefined),
    sseOutput: deps.sseOutput ?? (() => undefined),
    rules: { registry, strict: config.schemas.strict, internalStreams: webhookInternalStreams(config), internalSubjects: webhookInternalSubjects(config), maxJsonDepth: config.server.maxJsonDepth },
    clock,
    logger,
    limitedLog: repeatLimitedLogger(logger, now),
    ...(clients ?? clientState(config, logger, now)),
    audit: new AuditLog(config.audit, nats, deps.auditWrite, now),
    sse: new SseHub(nats, now, logger, tracing),
    sessions,
    wsSessions,
    connections: new Connections(),
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
