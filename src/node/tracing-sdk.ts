/**
 * The OpenTelemetry SDK, only when wanted: with OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set, a NodeTracerProvider batches
 * spans to that OTLP/HTTP endpoint (the exporter reads the other standard
 * OTEL_EXPORTER_OTLP_* variables itself, headers included). The SDK modules
 * are imported here, dynamically, so a gateway without it loads none of them.
 */
import type { TracerProvider } from "@opentelemetry/api";
import type { Logger } from "../logger.js";
import { VERSION } from "../version.js";

/** A started SDK: the provider to give `createApp`, and its flush-and-stop. */
export interface TracingSdk {
  provider: TracerProvider;
  shutdown(): Promise<void>;
}

/** Starts the SDK when the environment asks for it; undefined otherwise. */
export async function startTracingSdk(env: NodeJS.ProcessEnv, logger: Logger): Promise<TracingSdk | undefined> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === "true") return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "natsgate", "service.version": VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // Global too, so libraries that trace through the API land in the same traces.
  provider.register();
  // The origin only: a URL can carry credentials.
  logger.info("OpenTelemetry tracing on", { otlp: new URL(endpoint).origin });
  return { provider, shutdown: () => provider.shutdown() };
}
