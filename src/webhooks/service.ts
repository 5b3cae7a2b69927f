/**
 * Outbound webhooks on one replica: keeps the JetStream pieces in place (KV
 * registry, dead-letter and attempt streams, one durable consumer per subject
 * pattern), follows the registry live, runs a worker per enabled webhook, and
 * carries out the admin API's operations.
 */
import type { Tracing } from "../telemetry/tracing.js";
import type { MetricsRecorder } from "../telemetry/recorder.js";
import { randomBytes } from "node:crypto";
import { JetStreamApiError } from "@nats-io/jetstream";
import type { Clock } from "../gateway.js";
import type { Config } from "../config/load.js";
import { ConflictError, NatsUnavailableError, NotFoundError, UnprocessableError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { NatsClient } from "../nats/client.js";
import { ensureStream } from "../nats/streams.js";
import { bindingsFor, deleteConsumers, ensureConsumers, type Binding } from "./consumers.js";
import { Deliverer } from "./deliverer.js";
import { HttpSender } from "./http-send.js";
import { attemptStreamConfig, deadLetterStreamConfig, type JournalOptions } from "./journal.js";
import type { StoredWebhook } from "./model.js";
import type { WebhookSpec } from "../config/webhook.js";
import { SharedPacer } from "./pacer.js";
import { seedConfigWebhook } from "./seed.js";
import { SsrfGuard } from "./ssrf.js";
import { WebhookStore, type Versioned } from "./store.js";
import { WebhookWorker } from "./worker.js";
import { paceBucket, webhookInternalStreams, webhookReplicas } from "./internal.js";


/** The consumers of a webhook's replays in progress. */
function replayBindings(hook: WebhookSpec | StoredWebhook | undefined): Binding[] {
  const replays = (hook as StoredWebhook | undefined)?.replays ?? [];
  return replays.map((r) => ({ stream: r.stream, pattern: r.pattern, durable: r.durable, until: r.until }));
}

/** Delay before setting up again after a failure (e.g. JetStream briefly unavailable), in ms. */
const SETUP_RETRY_MS = 2_000;

/** What the service needs. */
export interface WebhookServiceDeps {
  config: Config;
  nats: NatsClient;
  clock: Clock;
  logger: Logger;
  tracing?: Tracing;
  metrics?: MetricsRecorder;
}

/** Outbound webhooks: registry, workers and admin operations. */
export class WebhookService {
  readonly guard: SsrfGuard;
  readonly deliverer: Deliverer;
  readonly journal: JournalOptions;
  readonly #deps: WebhookServiceDeps;
  readonly #sender: HttpSender;
  readonly #workers = new Map<string, WebhookWorker>();
  #store: WebhookStore | undefined;
  #setup: Promise<void> | undefined;
  #started: (() => void) | undefined;
  readonly #startedPromise: Promise<void>;
  #stopped = false;
  /** Set when the account has no JetStream: webhooks cannot work at all. */
  #unavailable: string | undefined;

  constructor(deps: WebhookServiceDeps) {
    this.#deps = deps;
    const w = deps.config.webhooks;
    this.guard = new SsrfGuard({ allowPrivateNetworks: w.allowPrivateNetworks, allowlist: w.allowlist });
    this.#sender = new HttpSender(this.guard);
    this.deliverer = new Deliverer({ nats: deps.nats, sender: this.#sender, clock: deps.clock, logger: deps.logger, pacedHosts: w.pacedHosts, tracing: deps.tracing, metrics: deps.metrics });
    this.journal = {
      deadLetterStream: w.deadLetterStream,
      attemptStream: w.attemptStream,
      deadLetterMaxAgeMs: w.deadLetterMaxAge,
      attemptsPerWebhook: w.attemptsPerWebhook,
      replicas: webhookReplicas(deps.config),
    };
    this.#startedPromise = new Promise((resolve) => (this.#started = resolve));
  }

  /** Sets up once NATS is ready (and again after failures). */
  start(): void {
    this.#deps.nats.onReady(() => {
      if (!this.#store && !this.#setup) this.#setup = this.#trySetup();
    });
  }

  /** Resolves once the registry is loaded and workers run. */
  whenStarted(): Promise<void> {
    return this.#startedPromise;
  }

  /** The registry (503 until set up). */
  store(): WebhookStore {
    if (!this.#store) throw new NatsUnavailableError(this.#unavailable ?? "webhooks are not available yet: the gateway is still setting up JetStream");
    return this.#store;
  }

  async #trySetup(): Promise<void> {
    try {
      await this.#doSetup();
      this.#started?.();
    } catch (err) {
      this.#store?.stop();
      this.#store = undefined;
      if (this.#stopped) return;
      this.#deps.logger.error("webhook setup failed; retrying", { err: String(err) });
      await new Promise((r) => setTimeout(r, SETUP_RETRY_MS).unref());
      this.#setup = undefined;
      if (this.#deps.nats.ready && !this.#stopped) this.#setup = this.#trySetup();
    }
  }

  async #doSetup(): Promise<void> {
    const { nats, config, logger } = this.#deps;
    if (!nats.hasJetStream()) {
      this.#unavailable = "outbound webhooks need JetStream, which this NATS account does not have";
      if (config.webhooks.endpoints.length > 0) logger.error(this.#unavailable, { webhooks: config.webhooks.endpoints.map((e) => e.id) });
      return;
    }
    this.#unavailable = undefined;
    const jsm = nats.manager();
    await ensureStream(jsm, deadLetterStreamConfig(this.journal), logger);
    await ensureStream(jsm, attemptStreamConfig(this.journal), logger);
    const replicas = this.journal.replicas;
    this.deliverer.shared = await SharedPacer.open(nats.jetstream(), jsm, { bucket: paceBucket(config), replicas }, logger, () => this.#deps.clock.now());
    const store = await WebhookStore.open(nats.jetstream(), jsm, { bucket: config.webhooks.bucket, replicas }, logger);
    const seeding = { prepare: (spec: WebhookSpec) => this.prepare(spec), logger, now: () => this.#deps.clock.now() };
    for (const endpoint of config.webhooks.endpoints) await seedConfigWebhook(store, endpoint as WebhookSpec, seeding);
    await store.watch((id, entry) => this.#apply(id, entry));
    this.#store = store;
    logger.info("webhooks ready", { webhooks: store.all().length, delivering: this.#workers.size });
    if (this.#stopped) this.#store.stop();
  }

  /** Starts, restarts or stops the worker for a registry change. */
  #apply(id: string, entry: Versioned | undefined): void {
    const old = this.#workers.get(id);
    if (old && entry && old.hook === entry.hook) return;
    if (old) {
      this.#workers.delete(id);
      void old.stop();
    }
    if (!entry || !entry.hook.enabled || this.#stopped) return;
    const hook = entry.hook;
    let bindings: Binding[];
    try {
      bindings = [...bindingsFor(hook, this.#deps.nats.streamIndex, webhookInternalStreams(this.#deps.config)), ...replayBindings(hook)];
    } catch (err) {
      this.#deps.logger.error("webhook cannot be delivered", { webhook: id, err: String(err) });
      return;
    }
    const worker = new WebhookWorker(hook, bindings, {
      nats: this.#deps.nats,
      deliverer: this.deliverer,
      logger: this.#deps.logger,
      now: () => this.#deps.clock.now(),
      disable: (hookId, reason) => this.disable(hookId, reason),
      replayDone: (hookId, durable) => this.replayDone(hookId, durable),
    });
    this.#workers.set(id, worker);
    // Recreate a consumer deleted behind the gateway's back (replays are not: a finished one is gone for good).
    const main = bindings.filter((b) => b.until === undefined);
    void Promise.resolve()
      .then(() => ensureConsumers(this.manager(), hook, main))
      .catch((err) => this.#deps.logger.warn("webhook consumers could not be checked", { webhook: id, err: String(err) }))
      .finally(() => {
        if (this.#workers.get(id) === worker) worker.start();
      });
  }

  /** Applies a change made by this replica at once (the watch repeats it later). */
  applyLocal(id: string, entry: Versioned | undefined): void {
    this.#apply(id, entry);
  }

  /** A new id for a webhook created without one. */
  static newId(): string {
    return "wh_" + randomBytes(9).toString("base64url").replace(/[^A-Za-z0-9]/g, "x");
  }

  /** Turns a webhook off after its destination said so; idempotent across replicas. */
  async disable(id: string, reason: string): Promise<void> {
    await this.modify(id, (hook) => (hook.enabled ? { ...hook, enabled: false, disabledReason: reason, disabledBy: "destination" } : undefined));
  }

  /** Removes a finished replay: its consumer and its registry entry. */
  async replayDone(id: string, durable: string): Promise<void> {
    const entry = this.store().get(id);
    const replay = entry?.hook.replays?.find((r) => r.durable === durable);
    if (replay) await deleteConsumers(this.manager(), [replay]);
    await this.modify(id, (hook) => {
      const replays = (hook.replays ?? []).filter((r) => r.durable !== durable);
      if (replays.length === (hook.replays ?? []).length) return undefined;
      return { ...hook, replays };
    });
    if (replay) this.#deps.logger.info("webhook replay finished", { webhook: id, stream: replay.stream, until: replay.until });
  }

  /**
   * Read-modify-write of one registry entry with compare-and-set, retried when
   * another replica wrote in between; `change` returns undefined for "no change".
   */
  async modify(id: string, change: (hook: StoredWebhook) => StoredWebhook | undefined): Promise<Versioned | undefined> {
    const store = this.store();
    for (let tries = 0; tries < 10; tries++) {
      const current = await store.read(id);
      if (!current) return undefined;
      const next = change(current.hook);
      if (!next) return current;
      try {
        const entry = await store.update({ ...next, updatedAt: new Date(this.#deps.clock.now()).toISOString() }, current.revision);
        this.#apply(id, entry);
        return entry;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    throw new ConflictError(`webhook ${id} keeps changing; try again`);
  }

  /** Ensures the consumers of `hook`; 422 when its subjects are not captured by a stream or JetStream refuses a consumer. */
  async prepare(hook: WebhookSpec): Promise<Binding[]> {
    const bindings = bindingsFor(hook, this.#deps.nats.streamIndex, webhookInternalStreams(this.#deps.config));
    try {
      await ensureConsumers(this.#deps.nats.manager(), hook, bindings);
    } catch (err) {
      // e.g. a work-queue stream takes one consumer per subject
      if (err instanceof JetStreamApiError) throw new UnprocessableError(`JetStream refused a consumer for webhook ${hook.id}: ${err.message}`);
      throw err;
    }
    return bindings;
  }

  /** Deletes consumers `before` had that `after` does not (replays included). */
  async retire(before: WebhookSpec | StoredWebhook, after: WebhookSpec | StoredWebhook | undefined): Promise<void> {
    const index = this.#deps.nats.streamIndex;
    const keep = new Set(after ? bindingsFor(after, index).map((b) => b.durable) : []);
    const old = before.subjects.flatMap((pattern) => {
      try {
        return bindingsFor({ id: before.id, subjects: [pattern] }, index);
      } catch {
        return []; // its stream is gone, and the consumer with it
      }
    });
    for (const r of replayBindings(after)) keep.add(r.durable);
    old.push(...replayBindings(before));
    await deleteConsumers(this.#deps.nats.manager(), old.filter((b) => !keep.has(b.durable)));
  }

  /** Which stream captures which subjects. */
  streamIndex() {
    return this.#deps.nats.streamIndex;
  }

  /** The JetStream manager (503 while NATS is down). */
  manager() {
    return this.#deps.nats.manager();
  }

  /** The stored webhook or 404. */
  get(id: string): Versioned {
    const entry = this.store().get(id);
    if (!entry) throw new NotFoundError(`no webhook ${id}`);
    return entry;
  }

  /**
   * Stops every worker and the registry watch; waits up to `timeoutMs` for
   * requests in flight to settle. Whatever is still unsettled then is not
   * lost: it was never acknowledged, so JetStream hands it to another replica.
   */
  async stop(timeoutMs = this.#deps.config.server.shutdownTimeoutMs): Promise<void> {
    this.#stopped = true;
    this.#store?.stop();
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled(workers.map((w) => w.stop())), bound]);
    clearTimeout(timer);
    this.#sender.close();
  }
}
