/**
 * One delivery attempt of one event to one webhook, shared by the durable
 * workers, `POST /v1/webhooks/{id}/test` and dead-letter retries: pace the
 * destination, build and sign the request, send it, decide what the answer
 * means, and journal the attempt.
 */
import type { Clock } from "../gateway.js";
import type { Logger } from "../logger.js";
import type { NatsClient } from "../nats/client.js";
import type { Envelope } from "../events/envelope.js";
import { deliveryRequest } from "./delivery-request.js";
import { attemptSpan, endAttemptSpan } from "./attempt-span.js";
import { Tracing } from "../telemetry/tracing.js";
import type { MetricsRecorder } from "../telemetry/recorder.js";
import type { AttemptResult, HttpSender } from "./http-send.js";
import { attemptSubject, deadLetterSubject, type AttemptRecord, type DeadLetter } from "./journal.js";
import { DEFAULT_RETRY_SCHEDULE_MS, SLACK_REQUESTS_PER_SECOND, type WebhookSpec } from "../config/webhook.js";
import { decide, type Outcome } from "./outcome.js";
import type { SharedPacer } from "./pacer.js";
import { ackWaitMs } from "./consumers.js";

/** Response text kept in an attempt record: 256 bytes (dead letters keep the full excerpt). */
const RECORD_EXCERPT_CHARS = 256;
const encoder = new TextEncoder();
/** While paced, an event's ack wait is renewed at least this often, in ms. */
const PACE_RENEW_MS = 5_000;

/** How often to renew the ack wait of a paced event: well inside the webhook's ack wait. */
const renewEvery = (hook: WebhookSpec) => Math.min(PACE_RENEW_MS, ackWaitMs(hook) / 2);

/** Sleeps `ms`, calling `onWait` first and every `renewMs` (so an ack wait never runs out meanwhile). */
async function sleepRenewing(ms: number, renewMs: number, onWait?: () => void): Promise<void> {
  for (let left = ms; left > 0; left -= renewMs) {
    onWait?.();
    await new Promise((r) => setTimeout(r, Math.min(left, renewMs)));
  }
}

/** What the deliverer needs. */
export interface DelivererDeps {
  nats: NatsClient;
  sender: HttpSender;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Hosts held to Slack's one request per second per URL (`webhooks.pacedHosts`). */
  pacedHosts: readonly string[];
  /** Spans for attempts (a no-op tracer by default). */
  tracing?: Tracing;
  metrics?: MetricsRecorder;
}

/** An attempt and what it means. */
export interface Attempted {
  result: AttemptResult;
  outcome: Outcome;
}

/** Sends attempts and keeps their journal. */
export class Deliverer {
  readonly #deps: DelivererDeps;
  /** Earliest start of the next request per paced key (ms). */
  readonly #nextFree = new Map<string, number>();
  /** Cluster-wide pacing for Slack URLs, once JetStream is set up. */
  shared: SharedPacer | undefined;
  /** Each URL's pace key, "" when not paced (URLs are parsed once). */
  readonly #paceKeys = new Map<string, string>();

  readonly #tracing: Tracing;

  constructor(deps: DelivererDeps) {
    this.#deps = deps;
    this.#tracing = deps.tracing ?? new Tracing();
  }

  /**
   * The key a destination held to Slack's pace shares its slots under (host
   * normalised, so `hooks.slack.com.` or a default port is the same URL), or
   * undefined when its host is not one of `webhooks.pacedHosts`.
   */
  #paceKey(hook: WebhookSpec): string | undefined {
    let key = this.#paceKeys.get(hook.url);
    if (key === undefined) {
      const url = new URL(hook.url);
      const host = url.hostname.toLowerCase().replace(/\.$/, "");
      key = this.#deps.pacedHosts.includes(host) ? `${url.protocol}//${host}${url.port ? `:${url.port}` : ""}${url.pathname}${url.search}` : "";
      if (this.#paceKeys.size >= 1_000) this.#paceKeys.clear();
      this.#paceKeys.set(hook.url, key);
    }
    return key || undefined;
  }

  /** True when the destination is held to Slack's pace, whatever the format. */
  slackPaced(hook: WebhookSpec): boolean {
    return this.#paceKey(hook) !== undefined;
  }

  /** True when `pace` may wait for this webhook. */
  isPaced(hook: WebhookSpec): boolean {
    return hook.rateLimit !== undefined || this.slackPaced(hook);
  }

  /** Waits for the destination's pace (Slack hosts: 1/s per URL across replicas; `rateLimit`: per webhook and replica). */
  async pace(hook: WebhookSpec, onWait?: () => void): Promise<void> {
    const slack = this.#paceKey(hook);
    if (slack && this.shared) {
      const interval = 1000 / Math.min(hook.rateLimit ?? Infinity, SLACK_REQUESTS_PER_SECOND);
      return this.shared.wait(slack, interval, (ms) => sleepRenewing(ms, renewEvery(hook), onWait));
    }
    const perSecond = Math.min(hook.rateLimit ?? Infinity, slack ? SLACK_REQUESTS_PER_SECOND : Infinity);
    if (perSecond === Infinity) return;
    const key = slack ? `url:${slack}` : `hook:${hook.id}`;
    const interval = 1000 / perSecond;
    const now = this.#deps.clock.now();
    const start = Math.max(now, this.#nextFree.get(key) ?? 0);
    this.#nextFree.set(key, start + interval);
    // A slow rate can queue events for longer than their ack wait: renew it every few seconds.
    await sleepRenewing(start - now, renewEvery(hook), onWait);
  }

  /** Sends `env` as attempt number `attempt` and decides the outcome (no pacing, no journal). */
  async attempt(hook: WebhookSpec, env: Envelope, id: string, attempt: number): Promise<Attempted> {
    const req = deliveryRequest(hook, env, id, this.#deps.clock.now());
    const span = attemptSpan(this.#tracing, hook, env, attempt);
    // The destination continues the trace from this attempt.
    this.#tracing.inject(span, req.headers);
    const result = await this.#deps.sender.send(req);
    endAttemptSpan(span, result);
    const schedule = hook.retry?.schedule ?? DEFAULT_RETRY_SCHEDULE_MS;
    const outcome = decide(result, { format: hook.format, schedule }, attempt, (this.#deps.random ?? Math.random)());
    return { result, outcome };
  }

  /** Appends an attempt record (best effort: the journal must never hold up a delivery). */
  record(hookId: string, env: Envelope, id: string, attempt: number, a: Attempted): void {
    const { result, outcome } = a;
    const now = this.#deps.clock.now();
    const name = outcomeName(outcome);
    this.#deps.metrics?.webhookAttempt(name, name === "delivered" ? now - Date.parse(env.time) : undefined);
    const rec: AttemptRecord = {
      webhookId: id,
      subject: env.subject,
      ...(env.stream !== undefined ? { stream: env.stream, seq: env.seq } : {}),
      attempt,
      outcome: name,
      ...(result.status !== undefined ? { status: result.status } : {}),
      ...(result.error ? { error: result.message ?? result.error } : {}),
      ...(result.excerpt ? { response: result.excerpt.slice(0, RECORD_EXCERPT_CHARS) } : {}),
      durationMs: result.durationMs,
      at: new Date(now).toISOString(),
      ...(outcome.kind === "retry" ? { nextAttemptAt: new Date(now + outcome.delayMs).toISOString() } : {}),
    };
    const data = encoder.encode(JSON.stringify(rec));
    void this.#deps.nats.nextTurn().then(() => {
      try {
        this.#deps.nats.connection().publish(attemptSubject(hookId), data);
      } catch (err) {
        this.#deps.logger.debug("attempt record dropped", { webhook: hookId, err: String(err) });
      }
    });
  }

  /** Stores a dead letter, acknowledged by JetStream (throws if it could not be stored). */
  async deadLetter(hookId: string, letter: DeadLetter): Promise<void> {
    await this.#deps.nats.jetstream().publish(deadLetterSubject(hookId), encoder.encode(JSON.stringify(letter)));
    this.#deps.metrics?.deadLettered();
  }
}

function outcomeName(o: Outcome): AttemptRecord["outcome"] {
  switch (o.kind) {
    case "delivered":
      return "delivered";
    case "retry":
      return "retrying";
    case "dead":
      return "dead-lettered";
    case "disable":
      return "disabled";
  }
}

/** A dead letter for an event whose last attempt ended with `a`. */
export function deadLetterOf(hookId: string, env: Envelope, id: string, attempts: number, a: Attempted, reason: string, nowMs: number): DeadLetter {
  return {
    webhook: hookId,
    webhookId: id,
    reason,
    attempts,
    ...(a.result.status !== undefined ? { status: a.result.status } : {}),
    ...(a.result.error ? { error: a.result.message ?? a.result.error } : {}),
    ...(a.result.excerpt ? { response: a.result.excerpt } : {}),
    deadAt: new Date(nowMs).toISOString(),
    event: env,
  };
}
