/**
 * A feed: the NATS side of one subscription set, rendered once into SSE
 * frames and handed to every client attached to it. Patterns fully captured
 * by a stream are read through a JetStream ordered consumer (so every frame
 * carries a resumable cursor); the others through a core subscription. A core
 * pattern that overlaps streams (`>`, `*.completed`) also reads those streams,
 * and its core subscription skips their subjects, so their messages still carry
 * stream, seq and a cursor to resume from.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/nats-core";
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg, type OrderedConsumerOptions } from "@nats-io/jetstream";
import { formatCursor, type Positions } from "./cursor.js";
import type { NatsClient } from "../nats/client.js";
import { envelope } from "../events/envelope.js";
import { Tracing } from "../telemetry/tracing.js";
import { processSpan } from "./process-span.js";
import { sseFrame } from "./sse-frame.js";
import { subjectMatches } from "../nats/subjects.js";
import { anyOverlap, supportsMultiFilter, type FeedPlan, type StartSpec } from "./feed-plan.js";

/** How long one pull of a feed's stream consumer waits, in ms (its heartbeats come at half that). */
const FEED_PULL_EXPIRES_MS = 10_000;

/** A rendered SSE frame, with the stream position it carries (JetStream frames only). */
export interface Frame {
  /** The NATS subject, for per-client delivery filters. */
  subject: string;
  /** The SSE frame. */
  text: string;
  /** The envelope as JSON (other transports wrap it). */
  env: string;
  /** The resume cursor after this frame, for stream frames. */
  cursor?: string;
  stream?: string;
  seq?: number;
  /** Matching messages left in the stream after this one, when it was delivered. */
  pending?: number;
}

/** Receives rendered frames. */
export type FrameSink = (frame: Frame) => void;

/** One stream's ordered consumer; `live` turns false once it is replaced or released. */
interface StreamReader {
  stream: string;
  patterns: string[];
  messages: ConsumerMessages;
  consumer: Consumer;
  live: boolean;
}

/** The NATS subscriptions and consumers behind one subscription set. */
export class Feed {
  readonly sinks = new Set<FrameSink>();
  /**
   * Told of each stream message read but not matched (nats-server 2.9 reads a
   * stream unfiltered for several patterns): a replay learns it has passed a position.
   */
  onSkip: ((stream: string, seq: number, pending: number | undefined) => void) | undefined;
  /** Told of a message that could not be handled (skipped, the feed goes on). */
  onError: ((subject: string, err: unknown, headers: MsgHdrs | undefined) => void) | undefined;
  readonly #positions: Positions = new Map();
  readonly #subs: Subscription[] = [];
  readonly #consumers: StreamReader[] = [];
  #stopped = false;

  constructor(
    private readonly nats: NatsClient,
    readonly plan: FeedPlan,
    private readonly start: StartSpec,
    private readonly queue: string | undefined,
    private readonly now: () => number,
    private readonly tracing: Tracing = new Tracing(),
  ) {}

  /** Opens every subscription and consumer; throws if NATS refuses. */
  async open(): Promise<void> {
    const nc = this.nats.connection();
    for (const pattern of this.plan.core) {
      this.#subs.push(nc.subscribe(pattern, { queue: this.queue, callback: (err, msg) => void (err || this.#guard(msg, () => this.#core(pattern, msg))) }));
    }
    for (const [stream, patterns] of this.plan.streams) await this.#openStream(nc, stream, patterns);
    // The subscriptions must be registered on the server before the client is told it is subscribed.
    await nc.flush();
  }

  /**
   * Replaces every stream consumer with a new one starting after the position
   * reached. Called after a reconnect: a restarted server has lost the ordered
   * consumers, and nats.js would only find out on a backoff of up to its 30 s
   * pull expiry, so clients would wait that long for the next event.
   */
  renew(): Promise<void> {
    // One renewal at a time: two interleaved would leave two readers on one stream.
    const run = this.#renewal.catch(() => {}).then(() => this.#renewNow());
    this.#renewal = run;
    return run;
  }

  #renewal: Promise<void> = Promise.resolve();

  async #renewNow(): Promise<void> {
    if (this.#stopped) return;
    const nc = this.nats.connection();
    // From the plan, not from the readers in place: an attempt that failed halfway must not
    // leave a stream unread for the next one to miss.
    for (const [stream, patterns] of this.plan.streams) {
      if (this.#replaced(stream)) continue;
      const i = this.#consumers.findIndex((r) => r.stream === stream);
      if (i !== -1) {
        const old = this.#consumers.splice(i, 1)[0]!;
        old.live = false;
        Feed.#release(old.messages, old.consumer);
      }
      const at = this.#positions.get(stream);
      await this.#openStream(nc, stream, patterns, at === undefined ? this.start : { kind: "cursor", positions: new Map([[stream, at]]) });
    }
  }

  async #openStream(nc: NatsConnection, stream: string, patterns: string[], start: StartSpec = this.start): Promise<void> {
    const js = this.nats.jetstream();
    const multi = patterns.length > 1;
    // Filters that still overlap (a.*.c and a.b.*) cannot go to the server together either.
    const serverFilters = !multi || (supportsMultiFilter(nc.info?.version) && !anyOverlap(patterns));
    // nats-server 2.9 takes one filter per consumer: read the stream unfiltered and match here,
    // which keeps one consumer and the stream's own order.
    const opts: Partial<OrderedConsumerOptions> = serverFilters ? { filter_subjects: multi ? patterns : patterns[0]! } : {};
    if (start.kind === "cursor" && start.positions.has(stream)) {
      const after = start.positions.get(stream)!;
      this.#positions.set(stream, after);
      opts.deliver_policy = DeliverPolicy.StartSequence;
      opts.opt_start_seq = after + 1;
    } else if (start.kind === "all") {
      opts.deliver_policy = DeliverPolicy.All;
      this.#positions.set(stream, 0);
    } else if (start.kind === "last") {
      opts.deliver_policy = DeliverPolicy.Last;
    } else if (start.kind === "since") {
      opts.deliver_policy = DeliverPolicy.StartTime;
      opts.opt_start_time = start.time.toISOString();
    } else {
      // "new" (or a stream the cursor does not name): start right after the stream's last message,
      // so the position is known from the first frame on.
      const info = await this.nats.streamInfo(stream);
      this.#positions.set(stream, info.state.last_seq);
      opts.deliver_policy = DeliverPolicy.StartSequence;
      opts.opt_start_seq = info.state.last_seq + 1;
    }
    if (this.#stopped) return;
    const consumer = await js.consumers.get(stream, opts);
    // nats-server 2.10 in a cluster answers the create before the consumer's leader takes pulls
    // now and then (~2 % here): the first pull is dropped and nothing arrives until two missed
    // heartbeats re-pull, 10 s later. Only the leader answers an info, so after one it is ready.
    if (nc.info?.cluster !== undefined) await consumer.info();
    const match = serverFilters ? undefined : patterns;
    const reader = { stream, patterns, consumer, live: true } as StreamReader;
    // A replaced consumer's buffered messages must not reach clients: its successor resends them.
    reader.messages = await consumer.consume({
      // Half nats.js's 30 s default: a consumer lost to a leader election (its heartbeats stop)
      // is re-made within ~10 s rather than ~60 s, at one pull per 10 s per feed and stream.
      expires: FEED_PULL_EXPIRES_MS,
      callback: (m) => void (reader.live && this.#guard(m, () => this.#stream(stream, m, match))),
    });
    this.#consumers.push(reader);
    if (this.#stopped) Feed.#release(reader.messages, consumer);
  }

  #core(pattern: string, msg: Msg): void {
    // JetStream deliveries to any consumer's inbox reach a wildcard subscription carrying the
    // stored message's subject (and a $JS.ACK reply): they are copies, never publishes, and
    // their subject is not what the client subscribed to.
    if (msg.reply?.startsWith("$JS.ACK.") || !subjectMatches(pattern, msg.subject)) return;
    // Overlapping patterns (x.* and *.b) each get their own copy from the server: the first
    // pattern that matches delivers it, the others stay silent. (In a queue group the server
    // already picks one subscription of the group per message.)
    if (this.queue === undefined && this.plan.core.length > 1 && this.plan.core.find((p) => subjectMatches(p, msg.subject)) !== pattern) return;
    // A stream this feed reads delivers the message itself, with its position: skip it here
    // while that very stream (same creation time) exists and this feed's consumer asks for
    // the subject; otherwise core NATS is all there is.
    if (this.plan.partial.size > 0) {
      const stream = this.nats.streamIndex.find(msg.subject);
      if (
        stream !== undefined &&
        this.plan.partial.has(stream) &&
        this.plan.partial.get(stream) === this.nats.streamIndex.created(stream) &&
        this.plan.streams.get(stream)!.some((f) => subjectMatches(f, msg.subject))
      ) {
        return;
      }
    }
    const traced = processSpan(this.tracing, envelope(msg.subject, msg.data, msg.headers, this.now()), msg.headers, msg.data.byteLength, this.queue, this.sinks.size);
    const env = JSON.stringify(traced.envelope);
    this.#broadcast({ subject: msg.subject, text: sseFrame(env), env });
    traced.span.end();
  }

  #stream(stream: string, m: JsMsg, match: string[] | undefined): void {
    if (this.#retired(stream)) return;
    this.#positions.set(stream, m.seq);
    // With client-side matching, pending counts other subjects too: only 0 ("nothing after this") is exact.
    const pending = match && m.info.pending > 0 ? undefined : m.info.pending;
    if (match && !match.some((p) => subjectMatches(p, m.subject))) {
      this.onSkip?.(stream, m.seq, pending);
      return;
    }
    const e = envelope(m.subject, m.data, m.headers, m.info.timestampNanos / 1e6, stream, m.seq);
    const traced = processSpan(this.tracing, e, m.headers, m.data.byteLength, this.queue, this.sinks.size);
    const env = JSON.stringify(traced.envelope);
    const cursor = formatCursor(this.#positions);
    this.#broadcast({ subject: m.subject, text: sseFrame(env, { id: cursor }), env, cursor, stream, seq: m.seq, pending });
    traced.span.end();
  }

  /** True when a stream read beside a core pattern is no longer the one the plan saw. */
  #replaced(stream: string): boolean {
    return this.plan.partial.has(stream) && this.plan.partial.get(stream) !== this.nats.streamIndex.created(stream);
  }

  /**
   * True (and the consumer released) when a stream read beside a core pattern was
   * deleted and created again: nats.js re-creates its ordered consumer on the new
   * stream from the old position, while core NATS already carries those subjects.
   */
  #retired(stream: string): boolean {
    if (!this.#replaced(stream)) return false;
    const i = this.#consumers.findIndex((c) => c.stream === stream);
    if (i !== -1) {
      const reader = this.#consumers.splice(i, 1)[0]!;
      reader.live = false;
      Feed.#release(reader.messages, reader.consumer);
    }
    return true;
  }

  /**
   * Runs one message's work inside nats.js's callback: nothing may throw into its
   * reader loop (that would stall the connection or end the consumer), so a
   * message that cannot be handled is reported and skipped.
   */
  #guard(msg: { subject: string; headers?: MsgHdrs }, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.onError?.(msg.subject, err, msg.headers);
    }
  }

  /** A copy of the position reached in each stream. */
  positions(): Positions {
    return new Map(this.#positions);
  }

  /**
   * True when the stream's consumer has nothing left to deliver and everything it
   * delivered was handled (`handledSeq` is the last sequence the caller saw).
   */
  async drained(stream: string, handledSeq: number): Promise<boolean> {
    const entry = this.#consumers.find((c) => c.stream === stream);
    if (!entry) return false;
    const info = await entry.consumer.info();
    return info.num_pending === 0 && info.delivered.stream_seq <= handledSeq;
  }

  #broadcast(frame: Frame): void {
    for (const sink of this.sinks) sink(frame);
  }

  /** Closes every subscription and consumer (idempotent). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const s of this.#subs) s.unsubscribe();
    for (const reader of this.#consumers) {
      reader.live = false;
      Feed.#release(reader.messages, reader.consumer);
    }
  }

  // Ordered consumers otherwise linger on the server for their 5-minute inactivity threshold.
  static #release(messages: ConsumerMessages, consumer: Consumer): void {
    void messages
      .close()
      .then(() => consumer.delete())
      .catch(() => {});
  }
}
