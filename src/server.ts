/**
 * Node entry point (`npm start`): load config, start an embedded nats-server if
 * `nats.embedded: auto` calls for it, connect to NATS in the background, serve
 * HTTP, and drain on SIGTERM. Configuration problems exit 1 with one line
 * naming the key.
 */
import { startTracingSdk } from "./node/tracing-sdk.js";
import { collectProcessMetrics } from "./node/process-metrics.js";
import { builtinSchemas } from "../schemas/index.js";
import { createRegistry } from "./node/schema-files.js";
import { createApp } from "./app.js";
import { loadConfig } from "./node/config-file.js";
import { EmbeddedNatsError, startEmbeddedIfNeeded } from "./node/embedded-nats.js";
import { ConfigError } from "./config/errors.js";
import { listen } from "./node/listen.js";
import { createLogger, type Logger } from "./logger.js";
import { NatsClient } from "./nats/client.js";
import { nodeTransport } from "./node/nats-transport.js";
import { installShutdown } from "./node/shutdown.js";
import { VERSION } from "./version.js";

async function main(): Promise<void> {
  let logger: Logger;
  let loaded;
  let registry;
  let tracingSdk;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
    logger = createLogger(loaded.config.log.level, undefined, loaded.config.log.format);
    registry = createRegistry(loaded.config, builtinSchemas);
    // Before anything starts: a bad OTEL_* variable is a configuration error like any other.
    tracingSdk = await startTracingSdk(process.env, loaded.config.tracing, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`natsgate: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { config } = loaded;
  if (config.auth.mode === "none") {
    logger.warn("auth.mode is none: every caller may publish to any non-reserved subject (development only)");
  }

  let embedded;
  try {
    embedded = await startEmbeddedIfNeeded(loaded, logger, process.env.NATSGATE_DATA_DIR ?? ".natsgate");
  } catch (err) {
    if (err instanceof EmbeddedNatsError) {
      process.stderr.write(`natsgate: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const nats = NatsClient.start({
    nats: config.nats,
    streams: config.jetstream.streams,
    logger,
    transport: nodeTransport,
    // The default file's stream is a convenience: it never rewrites or blocks an existing setup.
    streamPolicy: loaded.isDefault ? "suggest" : "manage",
  });
  const app = createApp({ config, nats, registry, logger, tracerProvider: tracingSdk?.provider });
  collectProcessMetrics(app.metrics.registry);
  const { server, url } = await listen(app, config.server, config.ws);
  logger.info("natsgate listening", { url, version: VERSION, config: loaded.file, nats: config.nats.servers });

  installShutdown({
    server,
    timeoutMs: config.server.shutdownTimeoutMs,
    logger,
    beforeClose: () => app.gateway.endStreams(),
    after: async () => {
      await app.gateway.webhooks.stop();
      await nats.drain();
      await embedded?.stop();
      // Last, so the spans of the drain are sent too.
      await tracingSdk?.shutdown();
    },
  });
}

process.on("unhandledRejection", (reason) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "unhandled rejection", err: String(reason) }) + "\n");
});

main().catch((err) => {
  process.stderr.write(`natsgate: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
