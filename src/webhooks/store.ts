/**
 * The webhook registry in a JetStream KV bucket, shared by every replica. Each
 * replica keeps a live copy fed by a KV watch; writes go through compare-and-
 * set so two admins (or two replicas disabling after a 410) cannot overwrite
 * each other silently.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/nats-core";
import { ConflictError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { StoredWebhook } from "./model.js";

/** Creates a KV bucket, or opens it as it is when it exists with other settings (history), bringing its replicas to `place.replicas`. */
export async function openBucket(js: JetStreamClient, jsm: JetStreamManager, place: BucketPlace, opts: Partial<KvOptions>, logger: Logger): Promise<KV> {
  const kvm = new Kvm(js);
  const kv = await kvm.create(place.bucket, { ...opts, replicas: place.replicas }).catch(() => kvm.open(place.bucket));
  // create() leaves an existing bucket as it is: one made before the cluster grew keeps one copy unless told.
  const stream = `KV_${place.bucket}`;
  const { config } = await jsm.streams.info(stream);
  if (config.num_replicas !== place.replicas) {
    // A cluster short of peers refuses the change; the bucket still works with the copies it has.
    await jsm.streams.update(stream, { ...config, num_replicas: place.replicas }).then(
      () => logger.info("updated bucket replicas", { bucket: place.bucket, from: config.num_replicas, replicas: place.replicas }),
      (err: unknown) => logger.warn("bucket replicas unchanged", { bucket: place.bucket, replicas: config.num_replicas, wanted: place.replicas, err }),
    );
  }
  return kv;
}

/** Where a bucket lives: its name and the copies JetStream keeps. */
export interface BucketPlace {
  bucket: string;
  replicas: number;
}

/** One entry of the live copy. */
export interface Versioned {
  hook: StoredWebhook;
  revision: number;
}

/** Called for every change seen on the bucket (undefined: deleted). */
export type ChangeListener = (id: string, entry: Versioned | undefined) => void;

const decoder = new TextDecoder();

/** KV-backed webhook registry with a live local copy. */
export class WebhookStore {
  readonly #kv: KV;
  readonly #live = new Map<string, Versioned>();
  #watch: QueuedIterator<unknown> | undefined;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Opens (creating if needed) the bucket. */
  static async open(js: JetStreamClient, jsm: JetStreamManager, place: BucketPlace, logger: Logger): Promise<WebhookStore> {
    return new WebhookStore(await openBucket(js, jsm, place, { history: 1 }, logger));
  }

  /** Every webhook this replica knows of, by id. */
  all(): StoredWebhook[] {
    return [...this.#live.values()].map((v) => v.hook).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The live entry for `id`. */
  get(id: string): Versioned | undefined {
    return this.#live.get(id);
  }

  /** Reads `id` from the bucket itself (not the live copy). */
  async read(id: string): Promise<Versioned | undefined> {
    const e = await this.#kv.get(id);
    if (!e || e.operation !== "PUT") return undefined;
    return { hook: JSON.parse(decoder.decode(e.value)) as StoredWebhook, revision: e.revision };
  }

  /** Stores a new webhook; 409 if the id is taken. */
  async create(hook: StoredWebhook): Promise<Versioned> {
    try {
      const revision = await this.#kv.create(hook.id, JSON.stringify(hook));
      return this.#remember(hook, revision);
    } catch (err) {
      if (await this.read(hook.id)) throw new ConflictError(`webhook ${hook.id} already exists`, { cause: err });
      throw err;
    }
  }

  /** Replaces `hook` if the stored revision is still `revision`; 409 otherwise. */
  async update(hook: StoredWebhook, revision: number): Promise<Versioned> {
    try {
      const next = await this.#kv.update(hook.id, JSON.stringify(hook), revision);
      return this.#remember(hook, next);
    } catch (err) {
      const current = await this.read(hook.id);
      if (current && current.revision !== revision) throw new ConflictError(`webhook ${hook.id} was changed meanwhile; read it again`, { cause: err });
      throw err;
    }
  }

  /** Deletes `id`. */
  async delete(id: string): Promise<void> {
    await this.#kv.delete(id);
    this.#live.delete(id);
  }

  /** Loads the bucket and follows it; `listener` sees the initial values and every change after. */
  async watch(listener: ChangeListener): Promise<void> {
    const iter = await this.#kv.watch();
    this.#watch = iter;
    let initial = true;
    const done = new Promise<void>((resolve) => {
      void (async () => {
        for await (const e of iter) {
          const known = this.#live.get(e.key);
          if (e.operation === "PUT") {
            // Own writes are applied at once and the watch repeats them later; the initial
            // values are all reported, including what this replica wrote before watching.
            if (initial || !known || known.revision < e.revision) {
              const entry = this.#remember(JSON.parse(decoder.decode(e.value)) as StoredWebhook, e.revision);
              listener(e.key, entry);
            }
          } else if (!known || known.revision < e.revision) {
            this.#live.delete(e.key);
            listener(e.key, undefined);
          }
          if (initial && e.delta === 0) {
            initial = false;
            resolve();
          }
        }
      })();
      // An empty bucket yields nothing to mark the end of the initial values.
      void this.#kv.status().then((s) => {
        if (s.values !== 0) return;
        initial = false;
        resolve();
      });
    });
    await done;
  }

  /** Stops following the bucket. */
  stop(): void {
    this.#watch?.stop();
  }

  #remember(hook: StoredWebhook, revision: number): Versioned {
    const entry = { hook, revision };
    this.#live.set(hook.id, entry);
    return entry;
  }
}
