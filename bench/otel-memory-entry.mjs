/**
 * The gateway's built entry with the OpenTelemetry SDK registered globally and an
 * in-memory exporter (batched, emptied every second): what tracing costs the
 * gateway with no export I/O at all. `createApp` falls back to the global provider.
 * Plain JavaScript, so it runs without tsx, as the built gateway does.
 */
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] }));
setInterval(() => exporter.reset(), 1_000).unref();
await import("../dist/src/server.js");
