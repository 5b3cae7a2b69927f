/**
 * Fan-out: every client on the same subscription set shares one feed (one
 * NATS subscription or consumer per pattern group), reference-counted and
 * stopped when the last client leaves. A client that resumes or asks for
 * history is caught up by a private replay, then handed to the shared feed
 * (catch-up.ts), so steady state is one consumer per subject set.
 */
import { CatchUp } from "./catch-up.js";
import { Feed, type Frame, type FrameSink } from "./feed.js";
import { planFeed, type FeedPlan, type StartSpec } from "./feed-plan.js";
import { repeatLimitedLogger, silentLogger, type Logger, type RepeatLimitedLogger } from "../logger.js";
import { traceFields } from "../telemetry/tracing.js";
import type { NatsClient } from "../nats/client.js";
import { fromNatsError } from "../nats/errors.js";
import { Tracing } from "../telemetry/tracing.js";

/** How many live frames may wait for a resuming client's replay, and what happens past that. */
export interface HeldLimit {
  max: number;
  onOverflow: () => void;
}
const NO_LIMIT: HeldLimit = { max: Infinity, onOverflow: () => {} };
/** Delay before retrying a failed renewal, growing by this much per attempt (ms), up to RENEW_RETRY_MAX_MS. */
const RENEW_RETRY_MS = 1_000;
const RENEW_RETRY_MAX_MS = 5_000;

/** A shared feed and the promise of its subscriptions being in place. */
interface SharedFeed {
  feed: Feed;
  opened: Promise<void>;
}

/** Shared feeds keyed by subscription set, plus replays in progress. */
export class SseHub {
  readonly #shared = new Map<string, SharedFeed>();
  readonly #open = new Set<Feed>();
  #queueMembers = 0;
  readonly #limited: RepeatLimitedLogger;

  constructor(
    private readonly nats: NatsClient,
    private readonly now: () => number,
    private readonly logger: Logger = silentLogger,
    private readonly tracing: Tracing = new Tracing(),
  ) {
    this.#limited = repeatLimitedLogger(logger, now);
    // After a reconnect (streams in place again), every stream consumer starts afresh from
    // where it was: a restarted server lost them. Core subscriptions nats.js restores itself.
    nats.onReady(() => {
      for (const feed of this.#open) void this.#renew(feed);
    });
  }

  async #renew(feed: Feed, attempt = 1): Promise<void> {
    try {
      await feed.renew();
    } catch (err) {
      if (attempt === 1) this.logger.warn("stream consumers not renewed after a reconnect; retrying", { streams: [...feed.plan.streams.keys()], err: String(err) });
      // Retried while the feed has clients and the connection is ready; a new reconnect starts over.
      const retry = () => this.#open.has(feed) && this.nats.ready && void this.#renew(feed, attempt + 1);
      setTimeout(retry, Math.min(RENEW_RETRY_MS * attempt, RENEW_RETRY_MAX_MS)).unref();
    }
  }

  /** Opens a feed that reports, rather than throws, a message it cannot handle. */
  #feed(plan: FeedPlan, start: StartSpec, queue: string | undefined): Feed {
    const feed = new Feed(this.nats, plan, start, queue, this.now, this.tracing);
    // By error kind, not subject: a poison message on a busy subject must not write a line per copy.
    feed.onError = (subject, err, headers) =>
      this.#limited.warn(`skip ${err instanceof Error ? err.name : typeof err}`, "message skipped: it could not be delivered", { subject, err: String(err), ...traceFields(headers) });
    return feed;
  }

  /** Feeds currently open (shared ones and replays). */
  get feeds(): number {
    return this.#open.size;
  }

  /**
   * Attaches `sink` to the subscription set from `start`; resolves with the
   * function that detaches it. While a resuming client is caught up, at most
   * `held.max` live frames wait for it; past that `held.onOverflow` is called.
   */
  async join(patterns: string[], start: StartSpec, queue: string | undefined, sink: FrameSink, held: HeldLimit = NO_LIMIT): Promise<() => void> {
    if (start.kind === "new") return (await this.#attach(patterns, queue, sink)).leave;
    // Attach first, holding live frames; the live position is read once the feed is open.
    const early: Frame[] = [];
    const live = await this.#attach(patterns, queue, (f) => void early.push(f));
    const streams = live.feed.plan.streams;
    const livePosition = live.feed.positions();
    if (start.kind === "cursor") {
      // A cursor that does not name one of the set's streams starts that stream where the live feed is.
      start = { kind: "cursor", positions: new Map([...livePosition, ...start.positions]) };
    }
    const handoff = new CatchUp(sink, livePosition, streams.keys(), start.kind === "cursor" ? start.positions : undefined, held.max);
    handoff.onOverflow = held.onOverflow;
    // Same tick: no frame can slip between the early ones and the retarget.
    for (const f of early) handoff.live(f);
    live.retarget(handoff.live);
    if (streams.size === 0) {
      handoff.caughtUp("");
      return live.leave;
    }
    const replay = this.#feed({ core: [], streams, partial: live.feed.plan.partial }, start, undefined);
    replay.sinks.add(handoff.replay);
    replay.onSkip = handoff.skipped;
    this.#open.add(replay);
    const stopReplay = () => {
      replay.stop();
      this.#open.delete(replay);
    };
    handoff.onSwitch = stopReplay;
    try {
      await replay.open();
      // A stream with nothing to replay never sends a frame to say so: ask its consumer.
      for (const stream of streams.keys()) {
        if (!handoff.switched && (await replay.drained(stream, handoff.last(stream)))) handoff.caughtUp(stream);
      }
    } catch (err) {
      stopReplay();
      live.leave();
      throw fromNatsError(err, "request", patterns.join(","), { connected: this.nats.connected });
    }
    return () => {
      live.leave();
      stopReplay();
    };
  }

  /** Attaches a sink to the shared feed for the set, opening it if needed. */
  async #attach(patterns: string[], queue: string | undefined, sink: FrameSink) {
    // Queue members are not fanned out in process: each has its own NATS queue subscription,
    // so the server shares the messages between them as between any other members.
    const key = queue === undefined ? JSON.stringify([...new Set(patterns)].sort()) : `queue:${++this.#queueMembers}`;
    let entry = this.#shared.get(key);
    if (!entry) {
      const feed = this.#feed(planFeed(patterns, this.nats, queue), { kind: "new" }, queue);
      entry = { feed, opened: feed.open() };
      this.#open.add(feed);
      this.#shared.set(key, entry);
    }
    const { feed, opened } = entry;
    let current = sink;
    // Sinks are attached before the feed opens, so no frame is missed while it does.
    const relay: FrameSink = (f) => current(f);
    feed.sinks.add(relay);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      feed.sinks.delete(relay);
      if (feed.sinks.size > 0) return;
      feed.stop();
      this.#open.delete(feed);
      if (this.#shared.get(key)?.feed === feed) this.#shared.delete(key);
    };
    try {
      await opened;
    } catch (err) {
      leave();
      throw fromNatsError(err, "request", patterns.join(","), { connected: this.nats.connected });
    }
    return { feed, leave, retarget: (next: FrameSink) => (current = next) };
  }

  /** Stops every feed (shutdown). */
  close(): void {
    for (const f of this.#open) f.stop();
    this.#open.clear();
    this.#shared.clear();
  }
}
