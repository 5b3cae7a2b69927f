/**
 * A feed's plan: which of a subscription's patterns a stream captures (read
 * through an ordered consumer, with cursors) and which go to core NATS, and
 * where a feed starts. Pure: decided from the stream index alone.
 */
import type { NatsClient } from "../nats/client.js";
import type { Positions } from "./cursor.js";
import { patternCovered, patternsOverlap } from "../nats/subjects.js";

/** Where a feed starts in the streams it reads. */
export type StartSpec =
  | { kind: "new" }
  | { kind: "all" }
  | { kind: "last" }
  | { kind: "since"; time: Date }
  | { kind: "cursor"; positions: Positions };

/** Which patterns go to which stream, and which to core NATS. */
export interface FeedPlan {
  core: string[];
  streams: Map<string, string[]>;
  /**
   * Streams read for a core pattern that only overlaps them (through the
   * intersections of the pattern with the stream's subjects), by the creation
   * time the plan saw: the core subscription skips their subjects while that
   * same stream exists, so each message arrives once, with its position.
   */
  partial: Map<string, string | undefined>;
}

/**
 * Splits patterns between the streams that capture them and core NATS. Queue
 * groups stay on core NATS alone: an ordered consumer cannot share work.
 */
export function planFeed(patterns: string[], nats: NatsClient, queue?: string): FeedPlan {
  const plan: FeedPlan = { core: [], streams: new Map(), partial: new Map() };
  // nats-server 2.10 refuses overlapping filters on one consumer: keep only the widest.
  const add = (stream: string, p: string) => {
    const tokens = p.split(".");
    const list = plan.streams.get(stream) ?? [];
    if (list.some((q) => patternCovered(tokens, [q.split(".")]))) return;
    plan.streams.set(stream, [...list.filter((q) => !patternCovered(q.split("."), [tokens])), p]);
  };
  const index = nats.streamIndex;
  // A repeated pattern would be a second subscription, and every message would arrive twice.
  for (const p of new Set(patterns)) {
    // A queue group is a core NATS feature: its members share the messages, which no
    // stream consumer of the gateway's would do.
    const stream = queue === undefined ? index.covering(p) : undefined;
    if (stream !== undefined) {
      add(stream, p);
      continue;
    }
    plan.core.push(p);
    if (queue !== undefined) continue;
    for (const { stream: s, filters } of index.overlapping(p)) {
      for (const f of filters) add(s, f);
      plan.partial.set(s, index.created(s));
    }
  }
  return plan;
}

/** True when two of `patterns` can match the same subject. */
export function anyOverlap(patterns: string[]): boolean {
  const tokens = patterns.map((p) => p.split("."));
  return tokens.some((a, i) => tokens.slice(i + 1).some((b) => patternsOverlap(a, b)));
}

/** True when the server takes several filter subjects on one consumer (2.10+). */
export function supportsMultiFilter(version: string | undefined): boolean {
  const [major, minor] = (version ?? "0.0").split(".").map(Number);
  return major! > 2 || (major === 2 && minor! >= 10);
}
