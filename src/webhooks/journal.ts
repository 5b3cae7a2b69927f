/**
 * Where webhook state that must outlive a replica lives, all in JetStream:
 * dead letters (a stream, kept until retried or aged out) and the recent
 * attempts per webhook (a stream keeping the last N per webhook subject).
 */
import { RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { Envelope } from "../events/envelope.js";

/** Subject prefix of the gateway's own streams; reserved, so clients can neither read nor forge them. */
export const INTERNAL_PREFIX = "$NATSGATE.";
/** Dead letters of webhook `id` are published on this subject. */
export const deadLetterSubject = (id: string) => `${INTERNAL_PREFIX}deadletter.${id}`;
/** Attempt records of webhook `id`. */
export const attemptSubject = (id: string) => `${INTERNAL_PREFIX}attempt.${id}`;

/** Names and limits of the webhook streams. */
export interface JournalOptions {
  deadLetterStream: string;
  attemptStream: string;
  /** How long dead letters are kept, in ms. */
  deadLetterMaxAgeMs: number;
  /** Attempt records kept per webhook. */
  attemptsPerWebhook: number;
  /** Copies JetStream keeps of both streams. */
  replicas: number;
}

/** The dead-letter stream's configuration. */
export function deadLetterStreamConfig(o: JournalOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.deadLetterStream,
    subjects: [`${INTERNAL_PREFIX}deadletter.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(o.deadLetterMaxAgeMs),
    num_replicas: o.replicas,
  };
}

/** The attempt log's configuration: only the newest records per webhook are kept. */
export function attemptStreamConfig(o: JournalOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.attemptStream,
    subjects: [`${INTERNAL_PREFIX}attempt.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_msgs_per_subject: o.attemptsPerWebhook,
    num_replicas: o.replicas,
  };
}

/** One attempt, as `GET /v1/webhooks/{id}/deliveries` shows it. */
export interface AttemptRecord {
  webhookId: string;
  subject: string;
  stream?: string;
  seq?: number;
  attempt: number;
  outcome: "delivered" | "retrying" | "dead-lettered" | "disabled" | "failed";
  status?: number;
  error?: string;
  response?: string;
  durationMs: number;
  at: string;
  nextAttemptAt?: string;
}

/** A dead letter as stored (and listed by `GET /v1/dead-letters`, with its `id`). */
export interface DeadLetter {
  webhook: string;
  webhookId: string;
  reason: string;
  attempts: number;
  status?: number;
  error?: string;
  response?: string;
  deadAt: string;
  /** The event as it was delivered (the envelope), so a retry needs nothing else. */
  event: Envelope;
}
