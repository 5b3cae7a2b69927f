/**
 * Pacing shared by every replica: "at most one request per interval to this
 * destination" holds across the cluster, not per process. The time of the last
 * request per key lives in a small KV bucket (entries expire after a minute);
 * a replica takes a slot with compare-and-set, so two replicas can never both
 * take the same one. Used for Slack URLs, whose limit is about 1 request/s.
 */
import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { Logger } from "../logger.js";
import { openBucket, type BucketPlace } from "./store.js";

/** Pace entries are dropped after this long without use, in ms. */
const PACE_TTL_MS = 60_000;
const decoder = new TextDecoder();

/** Cluster-wide pacing over a KV bucket. */
export class SharedPacer {
  private constructor(
    private readonly kv: KV,
    private readonly now: () => number,
  ) {}

  /** Opens (creating if needed) the pace bucket. */
  static async open(js: JetStreamClient, jsm: JetStreamManager, place: BucketPlace, logger: Logger, now: () => number): Promise<SharedPacer> {
    return new SharedPacer(await openBucket(js, jsm, place, { history: 1, ttl: PACE_TTL_MS }, logger), now);
  }

  /**
   * Resolves when this replica holds the next slot for `destination` (`intervalMs`
   * after the previous one); `sleep` waits (the caller keeps a message's ack wait alive meanwhile).
   */
  async wait(destination: string, intervalMs: number, sleep: (ms: number) => Promise<void>): Promise<void> {
    // Hashed: a Slack URL is a credential and must not become a readable key.
    const key = createHash("sha256").update(destination).digest("hex").slice(0, 32);
    for (;;) {
      const entry = await this.kv.get(key);
      const last = entry && entry.operation === "PUT" ? Number(decoder.decode(entry.value)) : 0;
      const now = this.now();
      const next = last + intervalMs;
      if (next > now) {
        await sleep(next - now);
        continue;
      }
      try {
        if (entry) await this.kv.update(key, String(now), entry.revision);
        else await this.kv.create(key, String(now));
        return;
      } catch {
        // Another replica took this slot; wait for the next one.
      }
    }
  }
}
