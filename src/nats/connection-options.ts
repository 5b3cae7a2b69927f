/**
 * How the gateway's NATS connection is made: nats.js options from the `nats`
 * config section (reconnect forever with a growing, jittered delay; client
 * pings; credentials), and what a runtime supplies to connect.
 */
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import { ConfigError } from "../config/errors.js";
import type { Config } from "../config/load.js";
import { GATEWAY_INBOX_PREFIX } from "./subjects.js";

/** First reconnect delay after a disconnect, in ms. */
export const RECONNECT_MIN_MS = 250;
/** Longest reconnect delay, in ms. */
export const RECONNECT_MAX_MS = 5_000;
/** Fraction of the delay added at random so replicas do not reconnect in lockstep. */
export const RECONNECT_JITTER = 0.25;
/** Client ping interval, in ms: a dead TCP peer is noticed within ~2 pings. */
export const DEFAULT_PING_INTERVAL_MS = 10_000;

/**
 * Reconnect delay grows with the time the connection has been down (half of
 * it), bounded by RECONNECT_MIN_MS and RECONNECT_MAX_MS, plus jitter.
 * nats.js calls the handler on every loop turn, so it must not keep a counter.
 */
export function reconnectDelay(downForMs: number, random: number): number {
  const base = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_MIN_MS, downForMs / 2));
  return Math.round(base * (1 + RECONNECT_JITTER * random));
}

/**
 * What a runtime supplies to reach NATS: nats.js's `connect` for its transport
 * (TCP on Node, `wsconnect` on Workers) and a way to read credential files.
 */
export interface NatsTransport {
  connect: (opts: ConnectionOptions) => Promise<NatsConnection>;
  /** Reads `nats.credsFile`; runtimes without files leave it out. */
  readFile?: (path: string) => Uint8Array;
}

/** Connection options for nats.js from the `nats` config section. */
export function connectionOptions(nats: Config["nats"], downSince: () => number, readFile?: NatsTransport["readFile"]): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: nats.servers,
    name: nats.name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    pingInterval: DEFAULT_PING_INTERVAL_MS,
    // nats.js otherwise captures a stack trace for every request (each JetStream publish is one);
    // gateway errors are mapped at the boundary and never need the caller's async stack.
    noAsyncTraces: true,
    inboxPrefix: GATEWAY_INBOX_PREFIX,
    reconnectDelayHandler: () => reconnectDelay(Date.now() - downSince(), Math.random()),
  };
  if (nats.token) opts.token = nats.token;
  if (nats.user) {
    opts.user = nats.user;
    opts.pass = nats.pass;
  }
  if (nats.nkeySeed) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(nats.nkeySeed));
  if (nats.credsFile) {
    if (!readFile) throw new ConfigError("nats.credsFile", "this runtime cannot read files; use nats.token or nats.user/pass");
    opts.authenticator = credsAuthenticator(readFile(nats.credsFile));
  }
  if (nats.tls) {
    opts.tls = {
      ...(nats.tls.ca ? { caFile: nats.tls.ca } : {}),
      ...(nats.tls.cert ? { certFile: nats.tls.cert } : {}),
      ...(nats.tls.key ? { keyFile: nats.tls.key } : {}),
    };
  }
  return opts;
}
