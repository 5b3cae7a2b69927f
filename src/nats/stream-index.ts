/**
 * Which JetStream stream captures a subject. Publishing must know this per
 * message (ack'd JetStream publish vs core publish) without a round trip, so
 * the stream list is held in memory, refreshed at every (re)connect and as soon
 * as the server announces a stream was created, updated or deleted.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../logger.js";
import { isReservedSubject, patternCovered, patternIntersection, subjectMatches } from "./subjects.js";

/** Subjects the server announces stream changes on. */
export const STREAM_ADVISORIES = "$JS.EVENT.ADVISORY.STREAM.>";
/** Cached lookups before the cache is cleared (bounds memory under random subjects). */
const MAX_CACHED_SUBJECTS = 10_000;

/** A stream's name and the subjects it captures. */
export interface StreamSubjects {
  name: string;
  subjects: string[];
  /** The stream's creation time, as the server reports it. */
  created?: string;
}

/** In-memory map from subjects to the stream capturing them. */
export class StreamIndex {
  #streams: StreamSubjects[] = [];
  #cache = new Map<string, string | null>();
  #created = new Map<string, string | undefined>();
  #refreshing: Promise<void> | undefined;
  #again = false;

  /** The stream capturing `subject`, or undefined for a core-NATS subject. */
  find(subject: string): string | undefined {
    const hit = this.#cache.get(subject);
    if (hit !== undefined) return hit ?? undefined;
    let found: string | null = null;
    for (const s of this.#streams) {
      if (s.subjects.some((p) => subjectMatches(p, subject))) {
        found = s.name;
        break;
      }
    }
    if (this.#cache.size >= MAX_CACHED_SUBJECTS) this.#cache.clear();
    this.#cache.set(subject, found);
    return found ?? undefined;
  }

  /**
   * The stream that captures every subject `pattern` can match, or undefined.
   * A pattern only partly captured (or spread over streams) cannot be resumed
   * from one stream position, so it is served from core NATS instead.
   */
  covering(pattern: string): string | undefined {
    const tokens = pattern.split(".");
    for (const s of this.#streams) {
      if (patternCovered(tokens, s.subjects.map((p) => p.split(".")))) return s.name;
    }
    return undefined;
  }

  /**
   * Streams that capture some, not necessarily all, of the subjects `pattern`
   * can match, each with the filters that select exactly those subjects (the
   * pattern intersected with the stream's subjects: a filter the server
   * accepts), leaving out subjects under reserved prefixes (KV buckets, the
   * gateway's journal). A wildcard subscription reads these for stream positions.
   */
  overlapping(pattern: string): { stream: string; filters: string[] }[] {
    const tokens = pattern.split(".");
    const out: { stream: string; filters: string[] }[] = [];
    for (const s of this.#streams) {
      const filters = new Set<string>();
      for (const subject of s.subjects) {
        if (isReservedSubject(subject)) continue;
        const both = patternIntersection(tokens, subject.split("."));
        if (both) filters.add(both.join("."));
      }
      if (filters.size > 0) out.push({ stream: s.name, filters: [...filters] });
    }
    return out;
  }

  /** When the stream was created: a stream deleted and created again is another stream. */
  created(stream: string): string | undefined {
    return this.#created.get(stream);
  }

  /** Replaces the index (used by `refresh`, and by tests of pure lookups). */
  set(streams: StreamSubjects[]): void {
    this.#streams = streams;
    this.#cache = new Map();
    // Asked per core message of a wide subscription: a map, not a scan.
    this.#created = new Map(streams.map((s) => [s.name, s.created]));
  }

  /** Reloads the stream list; concurrent calls coalesce into at most one more load. */
  async refresh(jsm: JetStreamManager): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        const streams: StreamSubjects[] = [];
        for await (const info of jsm.streams.list()) {
          // Mirrors capture nothing themselves; their subjects belong to the origin.
          if (info.config.mirror) continue;
          streams.push({ name: info.config.name, subjects: info.config.subjects ?? [], created: info.created });
        }
        this.set(streams);
      } while (this.#again);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Refreshes whenever the server announces a stream change. */
  watchAdvisories(nc: NatsConnection, jsm: () => JetStreamManager | undefined, logger: Logger): void {
    nc.subscribe(STREAM_ADVISORIES, {
      callback: (err, msg) => {
        if (err) return;
        // Only lifecycle events change subjects; skip snapshot/leader chatter.
        if (!/\.(CREATED|UPDATED|DELETED)\./.test(msg.subject)) return;
        const manager = jsm();
        if (!manager) return;
        this.refresh(manager).catch((e) => logger.warn("stream list refresh failed", { err: String(e) }));
      },
    });
  }
}
