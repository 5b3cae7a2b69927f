/**
 * What the features record, whatever keeps the numbers: `Metrics` (prom-client,
 * served at /metrics) on Node; nothing on Workers, where each isolate would hold
 * its own short-lived counters and Cloudflare's analytics count requests instead.
 */

/** The recording side of the gateway's metrics. */
export interface MetricsRecorder {
  /** One HTTP request answered, by route template. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** `count` publishes (one by default), by where they went and how they ended. */
  publish(kind: "core" | "jetstream", outcome: "ok" | number, count?: number): void;
  /** One batch publish and its item count. */
  batch(items: number): void;
  /** A stream ended because its client fell too far behind. */
  slowConsumer(transport: "sse" | "ws"): void;
  /** One webhook attempt; `latencyMs` from publish to delivery when it was delivered. */
  webhookAttempt(outcome: string, latencyMs?: number): void;
  /** A dead letter stored (counted once stored: one that failed to store comes back and is counted then). */
  deadLettered(): void;
}

/** Records nothing: for runtimes without a metrics endpoint. */
export const NO_METRICS: MetricsRecorder = {
  request() {},
  publish() {},
  batch() {},
  slowConsumer() {},
  webhookAttempt() {},
  deadLettered() {},
};
