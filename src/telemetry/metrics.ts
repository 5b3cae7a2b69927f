/**
 * Prometheus metrics (`GET /metrics`, prom-client). Labels are bounded: route
 * templates, methods, status classes, publish kinds and outcomes — never a raw
 * subject, a client name or a webhook id. Gauges of open streams and the NATS
 * connection are read when scraped, so nothing has to keep them in step.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MetricsRecorder } from "./recorder.js";

/** What the gauges read at scrape time. */
export interface MetricsSources {
  sseConnections: () => number;
  wsConnections: () => number;
  natsConnected: () => boolean;
  natsStalled: () => boolean;
  natsReconnects: () => number;
  /** Messages sent to or dropped for SSE and WebSocket clients so far (ended sessions included). */
  sessionMessages: (transport: "sse" | "ws", outcome: "sent" | "dropped") => number;
  /** Messages (SSE) or bytes (WebSocket) buffered for clients now. */
  sessionBuffered: (transport: "sse" | "ws") => number;
}

/** `GET /v1/stats`: counters since this replica started, gauges now. */
export interface OperationsSnapshot {
  nats: { state: "connected" | "stalled" | "disconnected"; reconnects: number };
  publishes: { ok: number; failed: number };
  streams: { sse: number; ws: number };
  /** Webhook attempts by outcome; `deadLettered` is also the dead-letter count. */
  webhooks: { delivered: number; retrying: number; deadLettered: number; disabled: number };
  slowConsumers: number;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** The gateway's metrics in their own registry (several gateways in one process stay apart). */
export class Metrics implements MetricsRecorder {
  readonly registry = new Registry();
  readonly #http = new Counter({ name: "natsgate_http_requests_total", help: "HTTP requests by route template, method and status class", labelNames: ["route", "method", "status"] as const, registers: [this.registry] });
  readonly #httpSeconds = new Histogram({ name: "natsgate_http_request_duration_seconds", help: "Time to the response head, by route template", labelNames: ["route"] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [this.registry] });
  readonly #publishes = new Counter({ name: "natsgate_publishes_total", help: "Publishes by kind (core, jetstream) and outcome (ok, or the HTTP status of the failure)", labelNames: ["kind", "outcome"] as const, registers: [this.registry] });
  readonly #batchItems = new Histogram({ name: "natsgate_batch_items", help: "Items per batch publish", buckets: [1, 10, 100, 1_000, 10_000, 100_000], registers: [this.registry] });
  readonly #slowConsumers = new Counter({ name: "natsgate_slow_consumer_disconnects_total", help: "Streams ended because the client fell too far behind", labelNames: ["transport"] as const, registers: [this.registry] });
  readonly #webhookAttempts = new Counter({ name: "natsgate_webhook_deliveries_total", help: "Webhook attempts by outcome (delivered, retrying, dead-lettered, disabled)", labelNames: ["outcome"] as const, registers: [this.registry] });
  readonly #webhookLatency = new Histogram({ name: "natsgate_webhook_delivery_latency_seconds", help: "From publish to a delivered webhook, retries included", buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3_600], registers: [this.registry] });
  readonly #deadLetters = new Counter({ name: "natsgate_dead_letters_total", help: "Events dead-lettered by webhooks", registers: [this.registry] });

  constructor(sources: MetricsSources) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    gauge("natsgate_sse_connections", "Open SSE streams", sources.sseConnections);
    gauge("natsgate_ws_connections", "Open WebSocket connections", sources.wsConnections);
    gauge("natsgate_nats_connected", "1 while connected to NATS", () => Number(sources.natsConnected()));
    gauge("natsgate_nats_stalled", "1 while the connected server leaves pings unanswered", () => Number(sources.natsStalled()));
    new Counter({ name: "natsgate_nats_reconnects_total", help: "Reconnects to NATS", registers: [this.registry], collect() { this.reset(); this.inc(sources.natsReconnects()); } });
    // Read from the sessions when scraped, like GET /v1/connections: no per-message cost on the fan-out.
    new Counter({
      name: "natsgate_session_messages_total",
      help: "Messages sent to or dropped for SSE and WebSocket clients, by transport and outcome",
      labelNames: ["transport", "outcome"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const transport of ["sse", "ws"] as const) for (const outcome of ["sent", "dropped"] as const) this.inc({ transport, outcome }, sources.sessionMessages(transport, outcome));
      },
    });
    gauge("natsgate_sse_buffered_messages", "Messages waiting to be written to SSE clients", () => sources.sessionBuffered("sse"));
    gauge("natsgate_ws_buffered_bytes", "Bytes waiting to be written to WebSocket clients", () => sources.sessionBuffered("ws"));
  }

  /** One HTTP request answered. */
  request(route: string, method: string, status: number, seconds: number): void {
    this.#http.inc({ route, method: METHODS.has(method) ? method : "OTHER", status: `${Math.floor(status / 100)}xx` });
    this.#httpSeconds.observe({ route }, seconds);
  }

  /** `count` publishes (one by default), by where they went and how they ended. */
  publish(kind: "core" | "jetstream", outcome: "ok" | number, count = 1): void {
    this.#publishes.inc({ kind, outcome: String(outcome) }, count);
  }

  batch(items: number): void {
    this.#batchItems.observe(items);
  }

  slowConsumer(transport: "sse" | "ws"): void {
    this.#slowConsumers.inc({ transport });
  }

  /** One webhook attempt; `latencyMs` from publish to delivery when it was delivered. */
  webhookAttempt(outcome: string, latencyMs?: number): void {
    this.#webhookAttempts.inc({ outcome });
    if (latencyMs !== undefined) this.#webhookLatency.observe(Math.max(0, latencyMs) / 1000);
  }

  /** A dead letter stored. */
  deadLettered(): void {
    this.#deadLetters.inc();
  }

  /** The numbers the console's operations panel shows, read from the same metrics `/metrics` exports. */
  async snapshot(): Promise<OperationsSnapshot> {
    const values = async (name: string) => (await this.registry.getSingleMetric(name)!.get()).values;
    const total = async (name: string, keep: (labels: Record<string, unknown>) => boolean = () => true) =>
      (await values(name)).reduce((sum, v) => (keep(v.labels) ? sum + v.value : sum), 0);
    const attempts = await values("natsgate_webhook_deliveries_total");
    const byOutcome = (outcome: string) => attempts.reduce((sum, v) => (v.labels.outcome === outcome ? sum + v.value : sum), 0);
    const [connected, stalled] = [await total("natsgate_nats_connected"), await total("natsgate_nats_stalled")];
    return {
      nats: { state: connected === 0 ? "disconnected" : stalled ? "stalled" : "connected", reconnects: await total("natsgate_nats_reconnects_total") },
      publishes: { ok: await total("natsgate_publishes_total", (l) => l.outcome === "ok"), failed: await total("natsgate_publishes_total", (l) => l.outcome !== "ok") },
      streams: { sse: await total("natsgate_sse_connections"), ws: await total("natsgate_ws_connections") },
      webhooks: { delivered: byOutcome("delivered"), retrying: byOutcome("retrying"), deadLettered: byOutcome("dead-lettered"), disabled: byOutcome("disabled") },
      slowConsumers: await total("natsgate_slow_consumer_disconnects_total"),
    };
  }

  /** The text format, for `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
