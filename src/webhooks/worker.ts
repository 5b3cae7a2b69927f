/**
 * The delivery loop of one webhook on one replica: pull from the webhook's
 * durable consumers, keep at most `concurrency` requests in flight (one, in
 * stream order, for ordered webhooks), and settle each message only after the
 * outcome is safe — ack after a 2xx or after the dead letter is stored, nak
 * with the retry delay otherwise. Nothing is acknowledged early, so a replica
 * killed at any moment leaves every unfinished event to the others.
 */
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { repeatLimitedLogger, type Logger, type RepeatLimitedLogger } from "../logger.js";
import type { NatsClient } from "../nats/client.js";
import { envelope } from "../events/envelope.js";
import { traceFields } from "../telemetry/tracing.js";
import type { Binding } from "./consumers.js";
import { deadLetterOf, type Deliverer } from "./deliverer.js";
import { webhookMessageId } from "./delivery-request.js";
import { type StoredWebhook } from "./model.js";
import { DEFAULT_WEBHOOK_CONCURRENCY } from "../config/webhook.js";

/** Wait before pulling again after NATS refused (consumer missing, disconnected), in ms. */
const RESTART_DELAY_MS = 1_000;
/** Redelivery delay for an event held back (webhook disabled meanwhile, dead letter not stored), in ms. */
const HELD_BACK_DELAY_MS = 1_000;

/** What a worker needs from the service. */
export interface WorkerDeps {
  nats: NatsClient;
  deliverer: Deliverer;
  logger: Logger;
  now: () => number;
  /** Turns the webhook off for everyone (410 Gone, Slack channel_is_archived). */
  disable(id: string, reason: string): Promise<void>;
  /** A replay consumer has delivered everything up to its end: remove it. */
  replayDone(id: string, durable: string): Promise<void>;
}

/** Delivers one webhook's events from its consumers. */
export class WebhookWorker {
  readonly #inflight = new Set<Promise<void>>();
  readonly #loops = new Set<ConsumerMessages>();
  readonly #concurrency: number;
  #stopped = false;
  #waiters: (() => void)[] = [];
  /** A sink that is down dead-letters every event: one line per window, the dead-letter stream keeps each. */
  readonly #limited: RepeatLimitedLogger;

  constructor(
    readonly hook: StoredWebhook,
    private readonly bindings: Binding[],
    private readonly deps: WorkerDeps,
  ) {
    // Slack's pace allows one request a second: more in flight would only wait for slots.
    this.#concurrency = hook.ordered || deps.deliverer.slackPaced(hook) ? 1 : hook.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
    this.#limited = repeatLimitedLogger(deps.logger, deps.now);
  }

  /** Starts pulling from every consumer. */
  start(): void {
    for (const b of this.bindings) void this.#run(b);
  }

  /** Stops pulling; resolves when the requests in flight have been settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const loop of this.#loops) loop.stop();
    this.#wake();
    await Promise.allSettled([...this.#inflight]);
  }

  async #run(b: Binding): Promise<void> {
    while (!this.#stopped) {
      try {
        const consumer = await this.deps.nats.jetstream().consumers.get(b.stream, b.durable);
        const messages = await consumer.consume({ max_messages: this.#concurrency });
        this.#loops.add(messages);
        if (this.#stopped) messages.stop();
        for await (const m of messages) {
          if (this.#stopped) {
            // Hand it back at once rather than after the ack wait.
            m.nak();
            continue;
          }
          await this.#slot();
          const task = this.#handle(m, b).catch((err) =>
            this.#limited.error("unexpected", "webhook delivery failed unexpectedly", { webhook: this.hook.id, webhookId: webhookMessageId(m.info.stream, m.seq), err: String(err), ...traceFields(m.headers) }),
          );
          this.#inflight.add(task);
          void task.finally(() => {
            this.#inflight.delete(task);
            this.#wake();
          });
        }
        this.#loops.delete(messages);
      } catch (err) {
        if (this.#stopped) return;
        this.deps.logger.warn("webhook consumer unavailable; retrying", { webhook: this.hook.id, consumer: b.durable, err: String(err) });
      }
      if (!this.#stopped) await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
    }
  }

  /** Resolves when fewer than `concurrency` requests are in flight. */
  async #slot(): Promise<void> {
    while (this.#inflight.size >= this.#concurrency && !this.#stopped) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #handle(m: JsMsg, b: Binding): Promise<void> {
    await this.#deliver(m, b);
    if (b.until !== undefined && (m.info.pending === 0 || m.seq >= b.until)) await this.#finishReplay(b);
  }

  /** Deletes a replay consumer once nothing up to its end is left or unacknowledged (any replica may get here). */
  async #finishReplay(b: Binding): Promise<void> {
    const info = await this.deps.nats.manager().consumers.info(b.stream, b.durable).catch(() => undefined);
    if (!info) return;
    if (info.num_ack_pending === 0 && (info.num_pending === 0 || info.delivered.stream_seq >= b.until!)) {
      await this.deps.replayDone(this.hook.id, b.durable);
    }
  }

  /** Acks; replay messages wait for the server's confirmation so the end-of-replay check counts them. */
  async #ack(m: JsMsg, b: Binding): Promise<void> {
    await this.deps.nats.nextTurn();
    if (b.until === undefined) m.ack();
    else await m.ackAck();
  }

  async #deliver(m: JsMsg, b: Binding): Promise<void> {
    const hook = this.hook;
    if (b.until !== undefined && m.seq > b.until) return this.#ack(m, b);
    const stream = m.info.stream;
    const id = webhookMessageId(stream, m.seq);
    const attempt = m.info.deliveryCount;
    if (this.deps.deliverer.isPaced(hook)) {
      // Waiting for a slot shared by many replicas can be long; keep the event ours meanwhile.
      await this.deps.deliverer.pace(hook, () => m.working());
    }
    if (this.#stopped) return void m.nak();
    // The ack wait restarts now: time spent queued here does not count against the attempt.
    m.working();
    const env = envelope(m.subject, m.data, m.headers, m.info.timestampNanos / 1e6, stream, m.seq);
    const attempted = await this.deps.deliverer.attempt(hook, env, id, attempt);
    this.deps.deliverer.record(hook.id, env, id, attempt, attempted);
    const { outcome } = attempted;
    switch (outcome.kind) {
      case "delivered":
        return this.#ack(m, b);
      case "retry":
        m.nak(outcome.delayMs);
        return;
      case "dead":
        try {
          await this.deps.deliverer.deadLetter(hook.id, deadLetterOf(hook.id, env, id, attempt, attempted, outcome.reason, this.deps.now()));
          await this.#ack(m, b);
          this.#limited.warn("dead", "webhook event dead-lettered", { webhook: hook.id, webhookId: id, reason: outcome.reason, ...traceFields(m.headers) });
        } catch (err) {
          // Not stored, so not acknowledged: it comes back and is dead-lettered then.
          this.#limited.error("dead-letter-failed", "dead letter not stored; will retry", { webhook: hook.id, webhookId: id, err: String(err), ...traceFields(m.headers) });
          m.nak(HELD_BACK_DELAY_MS);
        }
        return;
      case "disable":
        // The event stays in the consumer and is delivered once the webhook is enabled again.
        m.nak(HELD_BACK_DELAY_MS);
        this.deps.logger.warn("webhook disabled", { webhook: hook.id, reason: outcome.reason, webhookId: id, ...traceFields(m.headers) });
        await this.deps.disable(hook.id, outcome.reason);
        return;
    }
  }
}
