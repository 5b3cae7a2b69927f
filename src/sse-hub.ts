/**
 * Fan-out: clients on the same subscription set share one feed (one NATS
 * subscription or consumer per pattern group), reference-counted and stopped
 * when the last client leaves. A client resuming from a cursor or asking for
 * history gets a feed of its own, since its start differs from everyone else's.
 */
import { Feed, planFeed, type FrameSink, type StartSpec } from "./feed.js";
import type { NatsClient } from "./nats-client.js";
import { fromNatsError } from "./nats-errors.js";

/** A feed and the promise of its subscriptions being in place. */
interface OpenFeed {
  feed: Feed;
  opened: Promise<void>;
}

/** Shared and private feeds, keyed by subscription set. */
export class SseHub {
  readonly #shared = new Map<string, OpenFeed>();
  readonly #open = new Set<Feed>();

  constructor(
    private readonly nats: NatsClient,
    private readonly now: () => number,
  ) {}

  /** Feeds currently open (shared and private). */
  get feeds(): number {
    return this.#open.size;
  }

  /**
   * Attaches `sink` to the feed for `patterns`; resolves, once the feed's
   * subscriptions are in place, with the function that detaches it. The sink
   * is attached before the feed opens, so no frame of a replay is missed.
   */
  async join(patterns: string[], start: StartSpec, queue: string | undefined, sink: FrameSink): Promise<() => void> {
    const key = JSON.stringify([[...new Set(patterns)].sort(), queue ?? null]);
    const shareable = start.kind === "new";
    let entry = shareable ? this.#shared.get(key) : undefined;
    if (!entry) {
      const feed = new Feed(this.nats, planFeed(patterns, this.nats), start, queue, this.now);
      entry = { feed, opened: feed.open() };
      this.#open.add(feed);
      if (shareable) this.#shared.set(key, entry);
    }
    const { feed, opened } = entry;
    feed.sinks.add(sink);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      feed.sinks.delete(sink);
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
    return leave;
  }

  /** Stops every feed (shutdown). */
  close(): void {
    for (const f of this.#open) f.stop();
    this.#open.clear();
    this.#shared.clear();
  }
}
