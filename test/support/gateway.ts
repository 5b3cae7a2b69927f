/**
 * An in-process gateway for tests: the real app, a real NATS connection to a
 * test nats-server, and a real HTTP listener on a free port.
 */

import { builtinSchemas } from "../../schemas/index.js";
import { createRegistry } from "../../src/node/schema-files.js";
import { createApp, type GatewayApp } from "../../src/app.js";
import { parseConfig, type Config, type ConfigInput } from "../../src/config/load.js";
import { listen, type ListenOptions } from "../../src/node/listen.js";
import type { Server } from "node:http";
import { silentLogger, type Logger } from "../../src/logger.js";
import type { TracerProvider } from "@opentelemetry/api";
import { NatsClient } from "../../src/nats/client.js";
import { nodeTransport } from "../../src/node/nats-transport.js";
import { closeHttp } from "../../src/node/shutdown.js";

/** A running test gateway. */
export interface TestGateway {
  url: string;
  app: GatewayApp;
  config: Config;
  nats: NatsClient;
  /** Audit records written so far, parsed. */
  audit: Record<string, unknown>[];
  /** Another listener on the same app (e.g. with the publish fast path off); closed by `close()`. Resolves with its URL. */
  listenAgain(options: ListenOptions): Promise<string>;
  /** `fetch` relative to the gateway's URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** What a test may give the gateway beside its config. */
export interface TestGatewayOptions {
  /** Where logs go (default: nowhere). */
  logger?: Logger;
  /** Where spans go (default: the global provider, a no-op). */
  tracerProvider?: TracerProvider;
}

/** Starts a gateway against `natsUrl` with `config` merged over test defaults. */
export async function startGateway(natsUrl: string, config: ConfigInput = {}, { logger = silentLogger, tracerProvider }: TestGatewayOptions = {}): Promise<TestGateway> {
  const parsed = parseConfig({
    ...config,
    server: { host: "127.0.0.1", port: 0, ...config.server },
    nats: { embedded: "never", ...config.nats, servers: [natsUrl] },
  });
  const nats = NatsClient.start({ nats: parsed.nats, streams: parsed.jetstream.streams, logger, transport: nodeTransport });
  await nats.whenReady(10_000);
  const audit: Record<string, unknown>[] = [];
  const app = createApp({ config: parsed, nats, logger, tracerProvider, registry: createRegistry(parsed, builtinSchemas), auditWrite: (line) => audit.push(JSON.parse(line)) });
  await app.gateway.webhooks.whenStarted();
  const { server, url } = await listen(app, parsed.server, parsed.ws);
  const servers: Server[] = [server];
  return {
    url,
    app,
    config: parsed,
    nats,
    audit,
    async listenAgain(options) {
      const more = await listen(app, parsed.server, parsed.ws, options);
      servers.push(more.server);
      return more.url;
    },
    fetch: (path, init) => fetch(url + path, init),
    async close() {
      await Promise.all(
        servers.map((server) => closeHttp({ server, timeoutMs: 1_000, logger: silentLogger, beforeClose: () => app.gateway.endStreams(), after: async () => {} })),
      );
      await app.gateway.webhooks.stop();
      await nats.drain();
    },
  };
}
