/**
 * The gateway's one NATS connection: connects in the background, reconnects
 * forever with backoff and jitter, and knows at every moment whether a message
 * handed to it would reach the server — so the gateway can answer 503 instead
 * of letting nats.js buffer a publish it has already confirmed to a client.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { connectionOptions, type NatsTransport } from "./connection-options.js";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import { NatsUnavailableError } from "../errors.js";
import { isJetStreamUnavailable, isTransientJetStreamError } from "./errors.js";
import type { Config } from "../config/load.js";
import type { Logger } from "../logger.js";
import { StreamIndex } from "./stream-index.js";
import { ensureStreams } from "./streams.js";
import { Liveness } from "./liveness.js";
import { Turns } from "./turns.js";
import { JetStreamAcks } from "./acks.js";

/** Delay before retrying start-up work (stream creation) that failed, in ms. */
const SETUP_RETRY_MS = 2_000;
/** How long a reconnected client stays ready while its stream check only times out, in ms. */
const ELECTION_GRACE_MS = 30_000;

/** Options for `NatsClient.start`. */
export interface NatsClientOptions {
  nats: Config["nats"];
  streams: Config["jetstream"]["streams"];
  logger: Logger;
  transport: NatsTransport;
  /**
   * `manage` (default): the streams are required; create or update them, retrying
   * until it works. `suggest`: create the missing ones, never change one that
   * exists, and run without any that cannot be made (the default config file's
   * convenience stream must not rewrite or block someone else's NATS). `observe`:
   * never create or change a stream, only learn which exist (an edge runtime
   * connecting per request leaves streams to the replicas that manage them).
   */
  streamPolicy?: "manage" | "suggest" | "observe";
}

/** The shared NATS connection with readiness tracking. */
export class NatsClient {
  readonly streamIndex = new StreamIndex();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #acks: JetStreamAcks | undefined;
  #jsm: JetStreamManager | undefined;
  #connected = false;
  #ready = false;
  // Set once the configured streams have been seen in place.
  #setUp = false;
  // When the current run of failed stream checks began.
  #failingSince: number | undefined;
  #downSince = Date.now();
  #closed = false;
  #setupTimer: NodeJS.Timeout | undefined;
  readonly #readyWaiters = new Set<() => void>();
  readonly #readyListeners = new Set<() => void>();
  #liveness: Liveness | undefined;
  #reconnects = 0;
  readonly #opts: NatsClientOptions;
  readonly #firstConnect: Promise<NatsConnection>;

  private constructor(opts: NatsClientOptions) {
    this.#opts = opts;
    const options = connectionOptions(opts.nats, () => this.#downSince, opts.transport.readFile);
    this.#firstConnect = opts.transport.connect(options);
    this.#firstConnect.then(
      (nc) => this.#onFirstConnect(nc),
      (err) => opts.logger.error("nats connection failed", { err: String(err) }),
    );
  }

  /** Starts connecting in the background; the gateway serves (503) meanwhile. */
  static start(opts: NatsClientOptions): NatsClient {
    return new NatsClient(opts);
  }

  /** Resolves once connected and set up (streams ensured); rejects after `timeoutMs`. */
  whenReady(timeoutMs = 30_000): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readyWaiters.delete(onReady);
        reject(new NatsUnavailableError(`NATS did not become ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#readyWaiters.add(onReady);
    });
  }

  /** True while the connection is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** True when connected, answering pings, and the configured streams exist. */
  get ready(): boolean {
    return this.#ready && this.#connected && !this.stalled;
  }

  /** Reconnects since start. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** True while the connected server has left a ping unanswered past `nats.stallTimeoutMs`. */
  get stalled(): boolean {
    return this.#liveness?.stalled ?? false;
  }

  /** Milliseconds the oldest unanswered liveness ping has waited. */
  pingWaitingMs(): number {
    return this.#liveness?.waitingMs() ?? 0;
  }

  /** The live connection, or `NatsUnavailableError` (503) while disconnected. */
  connection(): NatsConnection {
    if (!this.#connected || !this.#nc) throw new NatsUnavailableError();
    return this.#nc;
  }

  /**
   * The connection to send a message on: 503 also while the server is stalled,
   * before anything is handed over, so the client knows it was not sent.
   */
  sending(): NatsConnection {
    const nc = this.connection();
    if (this.stalled) throw new NatsUnavailableError(`NATS is not answering: a ping has waited ${this.pingWaitingMs()} ms`);
    return nc;
  }

  readonly #turns = new Turns(() => this.connection(), () => this.#opts.nats.ackTimeoutMs);

  /**
   * Resolves once the server has answered a ping sent after every message handed
   * over before this call and in its synchronous run (`Turns.confirmed`): a core
   * publish is answered only once the server has it.
   */
  confirmed(): Promise<void> {
    return this.#turns.confirmed();
  }

  /** JetStream publishes and their acknowledgements on the live connection (503 while disconnected). */
  acks(): JetStreamAcks {
    this.connection();
    return this.#acks!;
  }

  /** The JetStream client for the live connection. */
  jetstream(): JetStreamClient {
    this.connection();
    return this.#js!;
  }

  /** Current info of a stream (503 while disconnected). */
  async streamInfo(stream: string): Promise<StreamInfo> {
    this.connection();
    if (!this.#jsm) throw new NatsUnavailableError("JetStream is not available");
    return this.#jsm.streams.info(stream);
  }

  /** The JetStream manager (503 while disconnected or without JetStream). */
  manager(): JetStreamManager {
    this.connection();
    if (!this.#jsm) throw new NatsUnavailableError("JetStream is not available");
    return this.#jsm;
  }

  /** True once set up against an account with JetStream. */
  hasJetStream(): boolean {
    return this.#jsm !== undefined;
  }

  /** Calls `listener` every time the client becomes ready (first connect and each reconnect). */
  onReady(listener: () => void): void {
    this.#readyListeners.add(listener);
    if (this.ready) listener();
  }

  /** Resolves after this event-loop turn's I/O; whatever is sent then shares one socket write. */
  nextTurn(): Promise<void> {
    return this.#turns.next();
  }

  /** The server's max_payload in bytes, once known. */
  maxPayload(): number | undefined {
    return this.#nc?.info?.max_payload;
  }

  /** `host:port` of the server connected to, while connected. */
  server(): string | undefined {
    return this.#connected ? this.#nc?.getServer() || undefined : undefined;
  }

  /** Version string of the connected server, once known. */
  serverVersion(): string | undefined {
    return this.#nc?.info?.version;
  }

  /** Drains subscriptions and pending publishes, then closes. */
  async drain(): Promise<void> {
    const nc = this.#stop();
    if (!nc) return;
    try {
      await nc.drain();
    } catch {
      await nc.close();
    }
  }

  /** Closes at once: for a connection whose every publish was already confirmed (a Worker's, per request). */
  async close(): Promise<void> {
    await this.#stop()?.close();
  }

  #stop(): NatsConnection | undefined {
    this.#closed = true;
    clearTimeout(this.#setupTimer);
    this.#liveness?.stop();
    const nc = this.#nc;
    return nc && !nc.isClosed() ? nc : undefined;
  }

  #onFirstConnect(nc: NatsConnection): void {
    // Closed while connecting (a Worker's request that ended first): this connection is not wanted.
    if (this.#closed) return void nc.close();
    this.#nc = nc;
    this.#js = jetstream(nc, { timeout: this.#opts.nats.ackTimeoutMs });
    this.#acks = new JetStreamAcks(nc, this.#opts.nats.ackTimeoutMs);
    this.#watchStatus(nc);
    this.#liveness = new Liveness({
      ping: () => (this.#connected && !nc.isClosed() ? nc.flush() : undefined),
      received: () => nc.stats().inBytes,
      stallTimeoutMs: this.#opts.nats.stallTimeoutMs,
      now: Date.now,
      logger: this.#opts.logger,
    });
    this.#liveness.start();
    this.#markConnected(nc.getServer());
    this.streamIndex.watchAdvisories(nc, () => this.#jsm, this.#opts.logger);
  }

  #markConnected(server: string, downForMs?: number): void {
    this.#connected = true;
    this.#opts.logger.info("connected to NATS", { server, version: this.serverVersion(), ...(downForMs !== undefined ? { downForMs } : {}) });
    // Back after an outage: the streams were in place a moment ago, so serve at once and check
    // again behind (a cluster electing new leaders answers those checks only seconds later).
    // Stream readers are renewed (onReady) only once that check has passed: an ordered
    // consumer made while its stream has no leader does not come back by itself.
    if (this.#setUp) this.#ready = true;
    void this.#setup();
  }

  async #setup(): Promise<void> {
    clearTimeout(this.#setupTimer);
    const nc = this.#nc;
    if (!nc || !this.#connected || this.#closed) return;
    try {
      const jsm = await this.#manager(nc);
      if (jsm) {
        if (this.#opts.streamPolicy !== "observe") await ensureStreams(jsm, this.#opts.streams, this.#opts.logger, this.#opts.streamPolicy);
        await this.streamIndex.refresh(jsm);
      } else {
        this.#opts.logger.warn("JetStream is not enabled for this account: every publish is core NATS");
        this.streamIndex.set([]);
      }
      this.#setUp = true;
      this.#failingSince = undefined;
      this.#markReady();
    } catch (err) {
      // Ready early after a reconnect on the word of the last check: a definite failure (JetStream
      // off, a stream that cannot be made) or an election that outlasts any real one ends that.
      this.#failingSince ??= Date.now();
      if (!isTransientJetStreamError(err) || Date.now() - this.#failingSince > ELECTION_GRACE_MS) this.#ready = false;
      this.#opts.logger.error("NATS setup failed; retrying", { err: String(err) });
      this.#setupTimer = setTimeout(() => void this.#setup(), SETUP_RETRY_MS);
      this.#setupTimer.unref();
    }
  }

  /** The JetStream manager; undefined when the account has no JetStream, which is fine only without configured streams. */
  async #manager(nc: NatsConnection): Promise<JetStreamManager | undefined> {
    if (this.#jsm) return this.#jsm;
    try {
      this.#jsm = await jetstreamManager(nc, { timeout: this.#opts.nats.ackTimeoutMs });
      return this.#jsm;
    } catch (err) {
      const required = this.#opts.streams.length > 0 && (this.#opts.streamPolicy ?? "manage") === "manage";
      if (!isJetStreamUnavailable(err) || required) throw err;
      return undefined;
    }
  }

  #markReady(): void {
    this.#ready = true;
    for (const waiter of this.#readyWaiters) waiter();
    this.#readyWaiters.clear();
    for (const listener of this.#readyListeners) listener();
  }

  #watchStatus(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") {
          this.#connected = false;
          this.#ready = false;
          this.#downSince = Date.now();
          this.#liveness?.reset();
          this.#opts.logger.warn("disconnected from NATS", { server: s.server });
        } else if (s.type === "reconnect") {
          this.#reconnects++;
          this.#liveness?.reset();
          this.#markConnected(s.server, Date.now() - this.#downSince);
        }
      }
    })();
    void nc.closed().then((err) => {
      this.#connected = false;
      this.#ready = false;
      if (err && !this.#closed) this.#opts.logger.error("NATS connection closed", { err: String(err) });
    });
  }
}
