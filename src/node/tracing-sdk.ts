/**
 * The OpenTelemetry SDK, only when wanted: with OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or the config's
 * tracing.otlpEndpoint) set, a NodeTracerProvider batches spans to that
 * OTLP/HTTP endpoint (the exporter reads the other standard
 * OTEL_EXPORTER_OTLP_* variables itself, headers included). The SDK modules
 * are imported here, dynamically, so a gateway without it loads none of them.
 */
import type { TracerProvider } from "@opentelemetry/api";
import { ConfigError } from "../config/errors.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { MAX_ATTRIBUTE_CHARS } from "../telemetry/tracing.js";
import { VERSION } from "../version.js";

/** Longest wait for the last spans at shutdown, in ms: a collector that is down must not hold the exit. */
export const SHUTDOWN_FLUSH_MS = 2_000;

/** A started SDK: the provider to give `createApp`, and its flush-and-stop. */
export interface TracingSdk {
  provider: TracerProvider;
  shutdown(): Promise<void>;
}

/** Starts the SDK when the environment or the config asks for it; undefined otherwise. The environment wins. */
export async function startTracingSdk(env: NodeJS.ProcessEnv, config: Config["tracing"], logger: Logger): Promise<TracingSdk | undefined> {
  if (env.OTEL_SDK_DISABLED === "true") return undefined;
  const key = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    : env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? "OTEL_EXPORTER_OTLP_ENDPOINT"
      : undefined;
  const endpoint = key ? env[key]! : config.otlpEndpoint;
  if (!endpoint) return undefined;
  let origin: string;
  try {
    const url = new URL(endpoint);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
    origin = url.origin;
  } catch {
    // collector:4318 parses as a URL with the scheme "collector:" and would fail on every export.
    throw new ConfigError(key ?? "tracing.otlpEndpoint", `expected an http:// or https:// URL such as http://collector:4318, got ${JSON.stringify(endpoint.slice(0, 100))}`);
  }
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || config.serviceName, "service.version": VERSION }),
    // Without an environment endpoint the exporter is told the config's; it appends /v1/traces like the variable would.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(key ? undefined : { url: tracesUrl(endpoint) }))],
    // Bounds what the export queue holds whatever an attribute came from.
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_CHARS },
  });
  // Global too, so libraries that trace through the API land in the same traces.
  provider.register();
  // The origin only: a URL can carry credentials.
  logger.info("OpenTelemetry tracing on", { otlp: origin });
  return {
    provider,
    // Best effort and bounded: spans that cannot be sent are not a reason to exit non-zero.
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`not flushed within ${SHUTDOWN_FLUSH_MS} ms`)), SHUTDOWN_FLUSH_MS)));
      try {
        await Promise.race([provider.shutdown(), timeout]);
      } catch (err) {
        logger.warn("last spans not exported", { err: String(err) });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The traces URL for a base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is read: `<base>/v1/traces`. */
function tracesUrl(base: string): string {
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}
