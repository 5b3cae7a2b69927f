/** Node's process metrics (CPU, memory, event-loop lag, GC, handles) in the gateway's registry. */
import { collectDefaultMetrics, type Registry } from "prom-client";

/** Adds prom-client's default metrics, unprefixed: their standard names are what dashboards expect. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
}
