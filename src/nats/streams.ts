/**
 * Creating and updating the streams named in `jetstream.streams` at start, so a
 * fresh cluster is ready for the gateway without a separate provisioning step.
 */
import {
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { StreamSettings } from "../config/load.js";
import type { Logger } from "../logger.js";
import { JS_CODES } from "./errors.js";

/** The JetStream stream config for a `jetstream.streams` entry. */
export function streamConfig(s: StreamSettings): Partial<StreamConfig> & { name: string } {
  const cfg: Partial<StreamConfig> & { name: string } = {
    name: s.name,
    subjects: s.subjects,
    num_replicas: s.replicas,
    storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
    retention:
      s.retention === "interest"
        ? RetentionPolicy.Interest
        : s.retention === "workqueue"
          ? RetentionPolicy.Workqueue
          : RetentionPolicy.Limits,
  };
  if (s.maxAge !== undefined) cfg.max_age = nanos(s.maxAge);
  if (s.maxBytes !== undefined) cfg.max_bytes = s.maxBytes;
  if (s.maxMsgs !== undefined) cfg.max_msgs = s.maxMsgs;
  if (s.duplicateWindow !== undefined) cfg.duplicate_window = nanos(s.duplicateWindow);
  return cfg;
}

/**
 * Creates missing streams and updates the settings of existing ones (`manage`);
 * with `suggest`, creates missing ones only and logs, rather than throws, what
 * it could not do.
 */
export async function ensureStreams(jsm: JetStreamManager, streams: StreamSettings[], logger: Logger, policy: "manage" | "suggest" = "manage"): Promise<void> {
  for (const settings of streams) {
    if (policy === "manage") {
      await ensureStream(jsm, streamConfig(settings), logger);
      continue;
    }
    try {
      await ensureStream(jsm, streamConfig(settings), logger, { update: false });
    } catch (err) {
      logger.warn("could not create the default config's stream; running without it", { stream: settings.name, err: String(err) });
    }
  }
}

/** Creates the stream, or updates it when its settings differ from `wanted` (unless `update` is false). */
export async function ensureStream(
  jsm: JetStreamManager,
  wanted: Partial<StreamConfig> & { name: string },
  logger: Logger,
  { update = true }: { update?: boolean } = {},
): Promise<void> {
  let existing;
  try {
    existing = await jsm.streams.info(wanted.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JS_CODES.streamNotFound) throw err;
  }
  if (!existing) {
    await jsm.streams.add(wanted);
    logger.info("created stream", { stream: wanted.name, subjects: wanted.subjects });
    return;
  }
  const current = existing.config as unknown as Record<string, unknown>;
  const changed = Object.entries(wanted).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v));
  if (changed && !update) {
    logger.warn("stream exists with other settings; leaving it as it is", { stream: wanted.name, subjects: existing.config.subjects });
  } else if (changed) {
    // Storage and retention cannot change on a live stream; the server says so.
    await jsm.streams.update(wanted.name, { ...existing.config, ...wanted });
    logger.info("updated stream", { stream: wanted.name, subjects: wanted.subjects });
  }
}
