/**
 * The durable JetStream consumers behind a webhook: one per subject pattern
 * (nats-server 2.9 takes one filter per consumer), each on the stream that
 * captures the pattern. Every replica pulls from the same durables, so the
 * server splits the work and remembers the position across restarts.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiError, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { UnprocessableError } from "../errors.js";
import { JS_CODES } from "../nats/errors.js";
import { patternsOverlap } from "../nats/subjects.js";
import type { StreamIndex } from "../nats/stream-index.js";
import { DEFAULT_WEBHOOK_MAX_PENDING, DEFAULT_WEBHOOK_TIMEOUT_MS, type WebhookSpec } from "../config/webhook.js";

/** One durable consumer of a webhook. */
export interface Binding {
  stream: string;
  pattern: string;
  durable: string;
  /** Replay consumers only: the last sequence to deliver; later events are skipped. */
  until?: number;
}

/** FNV-1a of the pattern, so a durable's name stays the same while its pattern does. */
function patternHash(pattern: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < pattern.length; i++) {
    h ^= pattern.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** Durable name prefix of a webhook's consumers. */
export const durablePrefix = (id: string) => `natsgate_wh_${id}_`;

/**
 * The consumers a webhook needs. Throws 422 when a pattern is not wholly
 * captured by one stream (a webhook must be durable), is captured by one of the
 * gateway's `internal` streams (the webhook registry holds secrets), or two
 * patterns overlap (an event would be delivered twice).
 */
export function bindingsFor(hook: Pick<WebhookSpec, "id" | "subjects">, index: StreamIndex, internal: readonly string[] = []): Binding[] {
  const uncovered = hook.subjects.filter((p) => index.covering(p) === undefined);
  if (uncovered.length > 0) {
    throw new UnprocessableError(
      `subjects ${uncovered.join(", ")} are not captured by a JetStream stream; webhooks deliver only from streams (add them to jetstream.streams)`,
      [{ path: "/subjects", message: `not captured by a stream: ${uncovered.join(", ")}` }],
    );
  }
  const inner = hook.subjects.filter((p) => internal.includes(index.covering(p)!));
  if (inner.length > 0) {
    throw new UnprocessableError(`subjects ${inner.join(", ")} are the gateway's own streams (webhook registry, delivery journal), which no webhook may carry`, [
      { path: "/subjects", message: `internal stream: ${inner.join(", ")}` },
    ]);
  }
  const tokens = hook.subjects.map((p) => p.split("."));
  for (let i = 0; i < tokens.length; i++) {
    for (let j = i + 1; j < tokens.length; j++) {
      if (patternsOverlap(tokens[i]!, tokens[j]!)) {
        throw new UnprocessableError(`subjects ${hook.subjects[i]} and ${hook.subjects[j]} overlap; an event would be delivered twice`, [
          { path: `/subjects/${j}`, message: `overlaps ${hook.subjects[i]}` },
        ]);
      }
    }
  }
  return hook.subjects.map((pattern) => ({
    stream: index.covering(pattern)!,
    pattern,
    durable: durablePrefix(hook.id) + patternHash(pattern),
  }));
}

/**
 * Ack wait of a webhook's consumers: twice the attempt timeout. The worker resets
 * it when an attempt starts, and buffers no more events than it has requests in
 * flight, so an event waits at most one attempt before its own starts — well
 * inside the ack wait — while a crashed replica's events come back soon.
 */
export function ackWaitMs(hook: Pick<WebhookSpec, "timeoutMs">): number {
  return 2 * (hook.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS);
}

function consumerConfig(hook: WebhookSpec, b: Binding): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: b.durable,
    description: `natsgate webhook ${hook.id}`,
    filter_subject: b.pattern,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    ack_wait: nanos(ackWaitMs(hook)),
    max_deliver: -1,
    // Ordered: one outstanding event across all replicas; a retrying event holds back the next.
    max_ack_pending: hook.ordered ? 1 : DEFAULT_WEBHOOK_MAX_PENDING,
  };
}

/** Creates the consumers that are missing and updates those whose settings changed. */
export async function ensureConsumers(jsm: JetStreamManager, hook: WebhookSpec, bindings: Binding[]): Promise<void> {
  for (const b of bindings) {
    const wanted = consumerConfig(hook, b);
    const existing = await jsm.consumers.info(b.stream, b.durable).catch((err) => {
      if (err instanceof JetStreamApiError && err.code === JS_CODES.consumerNotFound) return undefined;
      throw err;
    });
    if (!existing) {
      await jsm.consumers.add(b.stream, wanted);
    } else if (existing.config.ack_wait !== wanted.ack_wait || existing.config.max_ack_pending !== wanted.max_ack_pending) {
      await jsm.consumers.update(b.stream, b.durable, { ack_wait: wanted.ack_wait, max_ack_pending: wanted.max_ack_pending });
    }
  }
}

/** Where a replay starts: after a stream sequence, or at a time. */
export type ReplayStart = { afterSeq: number } | { time: string };

/**
 * Creates a replay consumer for `b` and returns the events it will deliver, or
 * 0 (and no consumer) when there is nothing between the start and `until`.
 */
export async function createReplayConsumer(jsm: JetStreamManager, hook: WebhookSpec, b: Binding, durable: string, start: ReplayStart, until: number): Promise<number> {
  const cfg = consumerConfig(hook, { ...b, durable });
  cfg.description = `natsgate webhook ${hook.id} replay up to ${b.stream}:${until}`;
  if ("afterSeq" in start) {
    cfg.deliver_policy = DeliverPolicy.StartSequence;
    cfg.opt_start_seq = start.afterSeq + 1;
  } else {
    cfg.deliver_policy = DeliverPolicy.StartTime;
    cfg.opt_start_time = start.time;
  }
  const info = await jsm.consumers.add(b.stream, cfg);
  if (info.num_pending === 0 || ("afterSeq" in start && start.afterSeq >= until)) {
    await deleteConsumers(jsm, [{ ...b, durable }]);
    return 0;
  }
  return info.num_pending;
}

/** Deletes consumers (already gone is fine). */
export async function deleteConsumers(jsm: JetStreamManager, bindings: Binding[]): Promise<void> {
  for (const b of bindings) {
    await jsm.consumers.delete(b.stream, b.durable).catch((err) => {
      if (err instanceof JetStreamApiError && (err.code === JS_CODES.consumerNotFound || err.code === JS_CODES.streamNotFound)) return;
      throw err;
    });
  }
}
