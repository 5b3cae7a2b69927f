/**
 * Config-file webhooks enter the shared registry at start. Every replica does
 * this with the same file, so the write is skipped when the stored definition
 * is already the file's, and a lost race with another replica is fine. State
 * set since — a destination's 410, an admin's `enabled: false` — survives a
 * restart as long as the definition in the file is unchanged.
 */
import { ConflictError, UnprocessableError } from "../errors.js";
import type { Logger } from "../logger.js";
import { definitionKey, type StoredWebhook } from "./model.js";
import { type WebhookSpec } from "../config/webhook.js";
import type { WebhookStore } from "./store.js";

/** What seeding needs from the service. */
export interface SeedDeps {
  /** Ensures the consumers; 422 when the webhook cannot be delivered. */
  prepare(spec: WebhookSpec): Promise<unknown>;
  logger: Logger;
  now(): number;
}

/** Writes a config-file webhook to the registry unless the stored one is the same. */
export async function seedConfigWebhook(store: WebhookStore, spec: WebhookSpec, deps: SeedDeps): Promise<void> {
  const now = new Date(deps.now()).toISOString();
  const current = await store.read(spec.id);
  if (current && current.hook.source === "api") {
    deps.logger.warn("webhook id in the config file is taken by one created through the API; the API's is kept", { webhook: spec.id });
    return;
  }
  const desired: StoredWebhook = { ...spec, source: "config", createdAt: current?.hook.createdAt ?? now, updatedAt: now };
  try {
    await deps.prepare(spec);
  } catch (err) {
    if (!(err instanceof UnprocessableError)) throw err;
    deps.logger.error("webhook from the config file cannot be delivered", { webhook: spec.id, err: err.message });
    desired.enabled = false;
    desired.disabledReason = err.message;
    desired.disabledBy = "setup";
  }
  if (current && definitionKey(current.hook) === definitionKey(desired)) {
    const by = current.hook.disabledBy;
    const unchanged = current.hook.enabled === desired.enabled && current.hook.disabledReason === desired.disabledReason;
    if (unchanged || by === "destination" || by === "admin") return;
  }
  try {
    if (current) await store.update(desired, current.revision);
    else await store.create(desired);
  } catch (err) {
    // Another replica starting at the same time wrote it first; its copy is the same file's.
    if (!(err instanceof ConflictError)) throw err;
    deps.logger.debug("config webhook seeded by another replica", { webhook: spec.id });
  }
}
