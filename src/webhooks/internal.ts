/**
 * The names the webhook feature keeps to itself (its KV buckets, journal streams
 * and their JetStream API subjects), so publish rules and permissions can refuse
 * them on every runtime without loading the webhook dispatcher.
 */
import type { Config } from "../config/load.js";
import { GATEWAY_INTERNAL } from "../security/permissions.js";

/** The KV bucket of shared pace slots, beside the registry bucket. */
export const paceBucket = (config: Config) => `${config.webhooks.bucket}_pace`;

/**
 * Copies JetStream keeps of the webhook state. Unset, it follows the most replicated
 * configured stream: a cluster that keeps its events three times keeps the registry,
 * dead letters and journal three times too.
 */
export function webhookReplicas(config: Config): number {
  return config.webhooks.replicas ?? Math.max(1, ...config.jetstream.streams.map((s) => s.replicas));
}

/** The streams behind the webhook feature: its KV buckets (secrets live there) and journal. */
export function webhookInternalStreams(config: Config): string[] {
  const w = config.webhooks;
  return [`KV_${w.bucket}`, `KV_${paceBucket(config)}`, w.deadLetterStream, w.attemptStream];
}

/**
 * Subjects the webhook feature keeps to itself: the journal, the KV buckets, and
 * the JetStream API and acks that name their streams (a `$JS.API.>` grant must
 * not read the registry through a direct get).
 */
export function webhookInternalSubjects(config: Config): string[] {
  // `$JS.API.…` and, in a JetStream domain, `$JS.<domain>.API.…`.
  const api = webhookInternalStreams(config).flatMap((s) =>
    ["$JS.API", "$JS.*.API"].flatMap((p) => [`${p}.*.*.${s}`, `${p}.*.*.${s}.>`, `${p}.*.*.*.${s}`, `${p}.*.*.*.${s}.>`]).concat(`$JS.ACK.${s}.>`),
  );
  return [...GATEWAY_INTERNAL, `$KV.${config.webhooks.bucket}.>`, `$KV.${paceBucket(config)}.>`, ...api];
}
