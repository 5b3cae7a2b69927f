/**
 * The Cloudflare Workers entry (wrangler.toml): the core app — /healthz,
 * /readyz, publish, batch, request and SSE subscribe — from the same route
 * modules as Node, with NATS reached over its WebSocket listener (`wsconnect`).
 * Bindings: `NATS_URL` (ws:// or wss://), `NATS_TOKEN`, `NATSGATE_CONFIG_JSON`
 * (the config file as JSON), `LOG_LEVEL`.
 *
 * A Worker may not use a socket opened by another request (the runtime cancels
 * the request as hung), so each request gets its own NATS connection, made
 * before the app runs and drained once its response — an SSE stream included —
 * has ended. What outlives a request (config, schemas, authentication and its
 * JWKS cache, rate-limit buckets, stream slots) is kept per isolate.
 */
import { wsconnect } from "@nats-io/nats-core";
import type { ExecutionContext } from "hono";
import { builtinSchemas } from "../schemas/index.js";
import { ConfigError } from "./config/errors.js";
import { configFromData, type Config } from "./config/load.js";
import { createCoreApp } from "./core-app.js";
import { builtinRegistry, type SchemaRegistry } from "./events/registry.js";
import { clientState, createCoreGateway, type ClientState } from "./gateway.js";
import { problemResponse } from "./http/problem.js";
import { closeAfterBody } from "./http/close-after-body.js";
import { createLogger, type Logger } from "./logger.js";
import { NatsClient } from "./nats/client.js";
import type { NatsTransport } from "./nats/connection-options.js";
import { NO_METRICS } from "./telemetry/recorder.js";
import { browserContext, credentialsFrom, crossSiteBrowser } from "./security/auth.js";
import { forwardedClient, trustedHops, type PeerAddress } from "./http/remote.js";

/** The Worker's bindings. */
export interface WorkerEnv {
  NATS_URL?: string;
  NATS_TOKEN?: string;
  NATSGATE_CONFIG_JSON?: string;
  LOG_LEVEL?: string;
}


// How long a request waits for its NATS connection before the app answers 503, in ms.
// (Not exported: a Worker module exports handlers only.)
const DEFAULT_WORKER_CONNECT_TIMEOUT_MS = 5_000;

// One attempt per request, bounded: the request is the retry loop, not nats.js.
const workerTransport: NatsTransport = {
  connect: (opts) => wsconnect({ ...opts, maxReconnectAttempts: 0, waitOnFirstConnect: false, reconnect: false, timeout: DEFAULT_WORKER_CONNECT_TIMEOUT_MS }),
};

// Cloudflare's edge sets CF-Connecting-IP to the client's address, replacing any the client sent.
const cloudflareClient: PeerAddress = (c) => c.req.header("cf-connecting-ip");

/** What an isolate keeps between requests, built once per set of bindings. */
interface Isolate {
  key: string;
  config: Config;
  registry: SchemaRegistry;
  logger: Logger;
  /** The per-request connection's logger: its "connected" line would come once per request, so info is left out. */
  natsLogger: Logger;
  clients: ClientState;
}

let isolate: Isolate | undefined;

function isolateFor(env: WorkerEnv): Isolate {
  const key = JSON.stringify([env.NATS_URL, env.NATS_TOKEN, env.NATSGATE_CONFIG_JSON, env.LOG_LEVEL]);
  if (isolate?.key === key) return isolate;
  let raw: unknown = {};
  if (env.NATSGATE_CONFIG_JSON) {
    try {
      raw = JSON.parse(env.NATSGATE_CONFIG_JSON);
    } catch (err) {
      throw new ConfigError("NATSGATE_CONFIG_JSON", `is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!env.NATS_URL) throw new ConfigError("NATS_URL", "is not set: give the ws:// or wss:// URL of NATS's WebSocket listener");
  if (!/^wss?:\/\//.test(env.NATS_URL)) throw new ConfigError("NATS_URL", `must be a ws:// or wss:// URL (NATS's WebSocket listener), got ${JSON.stringify(env.NATS_URL)}`);
  const { config } = configFromData(raw, { NATS_URL: env.NATS_URL, NATS_TOKEN: env.NATS_TOKEN, LOG_LEVEL: env.LOG_LEVEL }, "NATSGATE_CONFIG_JSON");
  // Files need a file system, which Workers does not have.
  if (config.schemas.files.length > 0) throw new ConfigError("schemas.files", "JSON Schema files cannot be read on Workers; validate those subjects on the Node gateway");
  if (config.nats.credsFile) throw new ConfigError("nats.credsFile", "cannot be read on Workers; use NATS_TOKEN or nats.user/pass");
  if (config.nats.tls) throw new ConfigError("nats.tls", "certificate files cannot be read on Workers; use a wss:// NATS_URL");
  // A Worker is on the internet: running without auth has to be asked for.
  if ((raw as { auth?: { mode?: unknown } }).auth?.mode === undefined) {
    throw new ConfigError("auth.mode", "is not set: a Worker is public; set auth.mode: required (with clients or jwt), or auth.mode: none to run it open on purpose");
  }
  const write = (line: string) => console.log(line);
  const logger = createLogger(config.log.level, write, "json");
  const natsLogger = createLogger(config.log.level === "info" ? "warn" : config.log.level, write, "json");
  const clients = clientState(config, logger, Date.now);
  isolate = { key, config, registry: builtinRegistry(builtinSchemas), logger, natsLogger, clients };
  return isolate;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let iso: Isolate;
    try {
      iso = isolateFor(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // The answer is public: it names the key, never a value (a URL's password, a pasted secret).
      console.error(`natsgate: invalid configuration: ${err.message}`);
      return problemResponse({ type: "https://natsgate.dev/problems/invalid-configuration", title: "Invalid configuration", status: 500, detail: `invalid configuration at ${err.key}; the Worker's log has the reason` });
    }
    const { config, logger } = iso;
    // A connection only for a request that will use it: probes of the process, unknown paths and
    // callers who fail authentication are answered without one, so a flood of them is not a
    // flood of NATS handshakes.
    const connect = await needsNats(request, iso);
    const nats = NatsClient.start({ nats: config.nats, streams: config.jetstream.streams, logger: iso.natsLogger, transport: connect ? workerTransport : OFFLINE, streamPolicy: "observe" });
    if (connect) await nats.whenReady(DEFAULT_WORKER_CONNECT_TIMEOUT_MS).catch(() => {});
    const gw = createCoreGateway({ config, nats, registry: iso.registry, logger, auditWrite: (line) => console.log(line), peerAddress: cloudflareClient }, NO_METRICS, iso.clients);
    // Closed, not drained: every publish was confirmed before its response, and a
    // drain's flush waits on a socket the runtime may no longer read once the response is done.
    let closed: Promise<void> | undefined;
    const close = () => {
      closed ??= (async () => {
        clearInterval(watch);
        try {
          gw.endStreams();
        } finally {
          await nats.close();
        }
      })();
      ctx.waitUntil(closed);
    };
    // This connection never reconnects: once it is gone or stops answering, end the SSE stream so
    // its client comes back (with Last-Event-ID) on a request that has a working one.
    const watch = setInterval(() => {
      if (connect && (!nats.connected || nats.stalled)) gw.endStreams();
    }, STREAM_WATCH_MS);
    let res: Response;
    try {
      res = await createCoreApp(gw).fetch(request, env, ctx);
    } catch (err) {
      close();
      throw err;
    }
    return closeAfterBody(res, close);
  },
};

/** How often a streaming request checks that its NATS connection still works, in ms. */
const STREAM_WATCH_MS = 1_000;

/** A transport that never connects: for requests answered without NATS. */
const OFFLINE: NatsTransport = { connect: () => new Promise(() => {}) };

/** True when the request is for a route that talks to NATS and its caller authenticates. */
async function needsNats(request: Request, iso: Isolate): Promise<boolean> {
  const path = new URL(request.url).pathname;
  if (path === "/readyz") return true;
  const streams = path === "/v1/subscribe";
  if (!streams && !path.startsWith("/v1/publish") && !path.startsWith("/v1/request/")) return false;
  const presented = credentialsFrom(request, streams);
  const { auth, passwordAttempts } = iso.clients;
  // Passwords nobody here takes, or sent from another site's page: the app refuses them unchecked.
  if (typeof presented === "object" && auth.required) {
    if (!auth.acceptsPasswords || crossSiteBrowser(browserContext((n) => request.headers.get(n)), iso.config.server.cors?.origins ?? [])) return false;
  }
  // The address the app will see, so a password checked here (behind the same budgets) is
  // remembered for it: the app's check then costs no second hash, nor a second failure.
  const remote = forwardedClient(request.headers.get("x-forwarded-for") ?? undefined, request.headers.get("cf-connecting-ip") ?? undefined, trustedHops(iso.config.server.trustProxy));
  try {
    await auth.authenticate(presented, { remote, attempts: passwordAttempts });
    return true;
  } catch {
    // The app authenticates again and answers (401 or 429, audited, the address charged once).
    return false;
  }
}
