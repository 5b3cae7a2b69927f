/**
 * The admin API's operations on webhooks and dead letters, over the service:
 * validation (400 with JSON-Pointer issues, 422 for subjects no stream
 * captures or internal destinations), registry writes with compare-and-set,
 * consumer changes, and the one-off deliveries of `test` and dead-letter retry.
 */
import { JetStreamApiError } from "@nats-io/jetstream";
import type { z } from "zod";
import { jsonPointer } from "../events/registry.js";
import { BadRequestError, ConflictError, DeliveryFailedError, NotFoundError, UnprocessableError, type ProblemIssue } from "../errors.js";
import type { Envelope } from "../events/envelope.js";
import type { Attempted } from "./deliverer.js";
import { attemptSubject, deadLetterSubject, INTERNAL_PREFIX, type AttemptRecord, type DeadLetter } from "./journal.js";
import { parseCursor } from "../subscribe/cursor.js";
import { bindingsFor, createReplayConsumer, type ReplayStart } from "./consumers.js";
import { definitionKey, MASK, maskUrl, publicWebhook, type Replay, type StoredWebhook } from "./model.js";
import { webhookSchema, type WebhookSpec } from "../config/webhook.js";
import { WebhookService } from "./service.js";
import { readMessages } from "./stream-read.js";
import { parseRfc3339 } from "../http/time.js";

/** Most records one listing returns. */
export const MAX_LIST_LIMIT = 1_000;
const decoder = new TextDecoder();

/** zod issues as problem+json issues with JSON Pointers. */
export function zodIssues(error: z.ZodError): ProblemIssue[] {
  return error.issues.map((i) => ({
    path: jsonPointer(i.path),
    message: i.code === "unrecognized_keys" ? `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}` : i.message,
  }));
}

function parseSpec(body: unknown, id: string | undefined): WebhookSpec {
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new BadRequestError(`invalid webhook: ${issues.map((i) => `${i.path || "/"} ${i.message}`).join("; ")}`, { slug: "invalid-webhook", title: "Invalid webhook", issues });
  }
  if (id !== undefined && parsed.data.id !== undefined && parsed.data.id !== id) {
    throw new BadRequestError(`the body's id ${parsed.data.id} differs from the path's ${id}`, { slug: "invalid-webhook", title: "Invalid webhook" });
  }
  return { ...parsed.data, id: id ?? parsed.data.id ?? WebhookService.newId() };
}

/** Admin operations. */
/**
 * A definition read from GET and sent back keeps what the view masked: a URL
 * equal to the stored one's masked form, and header values of `***`, stand for
 * the stored values (else a read-modify-write would post to `/***`).
 */
function unmasked(spec: WebhookSpec, stored: StoredWebhook): WebhookSpec {
  const out = { ...spec };
  if (spec.url === maskUrl(stored.url)) out.url = stored.url;
  if (spec.headers && stored.headers) {
    out.headers = Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, v === MASK && stored.headers![k] !== undefined ? stored.headers![k]! : v]));
  }
  return out;
}

export class WebhookAdmin {
  constructor(
    private readonly svc: WebhookService,
    private readonly now: () => number,
  ) {}

  list() {
    return this.svc.store().all().map(publicWebhook);
  }

  get(id: string) {
    return publicWebhook(this.svc.get(id).hook);
  }

  /** `POST /v1/webhooks`. */
  async create(body: unknown) {
    const spec = parseSpec(body, undefined);
    return publicWebhook(await this.#create(spec));
  }

  /** `PUT /v1/webhooks/{id}`: replaces (or creates); `created` tells which. */
  async replace(id: string, body: unknown): Promise<{ created: boolean; webhook: ReturnType<typeof publicWebhook> }> {
    const parsed = parseSpec(body, id);
    const store = this.svc.store();
    const current = await store.read(id);
    if (!current) return { created: true, webhook: publicWebhook(await this.#create(parsed)) };
    const spec = unmasked(parsed, current.hook);
    if (current.hook.source === "config" && definitionKey(current.hook) !== definitionKey({ ...spec, id })) {
      throw new ConflictError(`webhook ${id} is defined in the config file; change it there (only enabled can be set here)`);
    }
    this.#checkDestination(spec);
    await this.svc.prepare(spec);
    const stamp = new Date(this.now()).toISOString();
    const hook: StoredWebhook = { ...spec, source: current.hook.source, createdAt: current.hook.createdAt, updatedAt: stamp };
    if (current.hook.replays?.length) hook.replays = current.hook.replays;
    if (!hook.enabled) hook.disabledBy = "admin";
    const entry = await store.update(hook, current.revision);
    await this.svc.retire(current.hook, spec);
    this.svc.applyLocal(id, entry);
    return { created: false, webhook: publicWebhook(hook) };
  }

  /** `DELETE /v1/webhooks/{id}`: the registry entry and its consumers. */
  async delete(id: string): Promise<void> {
    const store = this.svc.store();
    const current = await store.read(id);
    if (!current) throw new NotFoundError(`no webhook ${id}`);
    if (current.hook.source === "config") throw new ConflictError(`webhook ${id} is defined in the config file; remove it there`);
    await store.delete(id);
    this.svc.applyLocal(id, undefined);
    await this.svc.retire(current.hook, undefined);
  }

  async #create(spec: WebhookSpec): Promise<StoredWebhook> {
    this.#checkDestination(spec);
    const store = this.svc.store();
    if (await store.read(spec.id)) throw new ConflictError(`webhook ${spec.id} already exists`);
    await this.svc.prepare(spec);
    const stamp = new Date(this.now()).toISOString();
    const hook: StoredWebhook = { ...spec, source: "api", createdAt: stamp, updatedAt: stamp };
    let entry;
    try {
      entry = await store.create(hook);
    } catch (err) {
      // Lost a race with another create of the same id: drop the consumers only this attempt needed.
      const winner = await store.read(spec.id);
      await this.svc.retire(spec, winner?.hook).catch(() => {});
      throw err;
    }
    this.svc.applyLocal(hook.id, entry);
    return hook;
  }

  #checkDestination(spec: WebhookSpec): void {
    const refused = this.svc.guard.checkUrl(spec.url);
    if (refused) throw new UnprocessableError(refused.message, [{ path: "/url", message: "internal destination" }]);
  }

  /**
   * `POST /v1/webhooks/{id}/replay`: delivers again every event from `from` (a
   * cursor: after that position; an RFC 3339 time: from then) up to the
   * stream's end now, through extra durable consumers every replica shares.
   * Replayed events keep their webhook-id.
   */
  async replay(id: string, body: unknown) {
    const from = (body as { from?: unknown } | null)?.from;
    if (typeof from !== "string" || from.length === 0) {
      throw new BadRequestError('replay needs {"from": cursor or RFC 3339 time}', { issues: [{ path: "/from", message: "required string" }] });
    }
    // `from` is an RFC 3339 time, else a cursor.
    const time = parseRfc3339(from)?.toISOString();
    const positions = time ? undefined : parseCursor(from, "from");
    const current = this.svc.get(id).hook;
    if (!current.enabled) throw new ConflictError(`webhook ${id} is disabled; enable it before replaying`);
    const bindings = bindingsFor(current, this.svc.streamIndex());
    if (positions && !bindings.some((b) => positions.has(b.stream))) {
      throw new BadRequestError(`cursor ${from} names none of the streams webhook ${id} reads (${[...new Set(bindings.map((b) => b.stream))].join(", ")})`);
    }
    const jsm = this.svc.manager();
    const started: Replay[] = [];
    const stamp = this.now();
    for (const b of bindings) {
      const afterSeq = positions?.get(b.stream);
      if (positions && afterSeq === undefined) continue;
      const until = (await jsm.streams.info(b.stream)).state.last_seq;
      const durable = `${b.durable}_r${stamp.toString(36)}`;
      const start: ReplayStart = time ? { time } : { afterSeq: afterSeq! };
      const pending = await createReplayConsumer(jsm, current, b, durable, start, until);
      if (pending > 0) started.push({ durable, stream: b.stream, pattern: b.pattern, until, from, startedAt: new Date(stamp).toISOString() });
    }
    if (started.length > 0) {
      await this.svc.modify(id, (hook) => ({ ...hook, replays: [...(hook.replays ?? []), ...started] }));
    }
    return { webhook: id, replays: started.map(({ durable: _d, ...r }) => r) };
  }

  /** `POST /v1/webhooks/{id}/test`: one signed delivery of a sample event, now. */
  async test(id: string) {
    const hook = this.svc.get(id).hook;
    const env: Envelope = { subject: "natsgate.webhook.test", data: { webhook: id, test: true }, time: new Date(this.now()).toISOString() };
    const msgId = "msg_test_" + WebhookService.newId().slice(3);
    const attempted = await this.svc.deliverer.attempt(hook, env, msgId, 1);
    this.svc.deliverer.record(id, env, msgId, 1, attempted);
    return { webhookId: msgId, delivered: attempted.outcome.kind === "delivered", ...attemptView(attempted) };
  }

  /** `GET /v1/webhooks/{id}/deliveries`: recent attempts, newest first. */
  async deliveries(id: string, limit: number): Promise<AttemptRecord[]> {
    this.svc.get(id);
    const { attemptStream, attemptsPerWebhook } = this.svc.journal;
    const msgs = await readMessages(this.svc.manager(), attemptStream, attemptSubject(id), 1, attemptsPerWebhook);
    return msgs
      .map((m) => JSON.parse(decoder.decode(m.data)) as AttemptRecord)
      .reverse()
      .slice(0, limit);
  }

  /** `GET /v1/dead-letters`: oldest first, from after `after`, optionally for one webhook. */
  async deadLetters(webhook: string | undefined, after: number, limit: number): Promise<(DeadLetter & { id: number })[]> {
    const filter = webhook ? deadLetterSubject(webhook) : `${INTERNAL_PREFIX}deadletter.>`;
    const msgs = await readMessages(this.svc.manager(), this.svc.journal.deadLetterStream, filter, after + 1, limit);
    return msgs.map((m) => ({ id: m.seq, ...(JSON.parse(decoder.decode(m.data)) as DeadLetter) }));
  }

  /** `POST /v1/dead-letters/{id}/retry`: delivers now; on a 2xx the dead letter is removed, otherwise it stays (502). */
  async retryDeadLetter(seq: number) {
    const jsm = this.svc.manager();
    const stream = this.svc.journal.deadLetterStream;
    const stored = await jsm.streams.getMessage(stream, { seq }).catch((err) => {
      if (err instanceof JetStreamApiError) return null;
      throw err;
    });
    if (!stored || !stored.subject.startsWith(`${INTERNAL_PREFIX}deadletter.`)) throw new NotFoundError(`no dead letter ${seq}`);
    const letter = JSON.parse(decoder.decode(stored.data)) as DeadLetter;
    const hook = this.svc.get(letter.webhook).hook;
    const attempt = letter.attempts + 1;
    const attempted = await this.svc.deliverer.attempt(hook, letter.event, letter.webhookId, attempt);
    this.svc.deliverer.record(hook.id, letter.event, letter.webhookId, attempt, attempted);
    const view = { id: seq, webhookId: letter.webhookId, ...attemptView(attempted) };
    if (attempted.outcome.kind !== "delivered") {
      throw new DeliveryFailedError(`webhook ${hook.id} did not accept the event: ${view.error ?? `HTTP ${view.status}`}; the dead letter is kept`, view);
    }
    await jsm.streams.deleteMessage(stream, seq, false);
    return { delivered: true, ...view };
  }
}

function attemptView(a: Attempted) {
  const r = a.result;
  return {
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.error ? { error: r.message ?? r.error } : {}),
    ...(r.excerpt ? { response: r.excerpt } : {}),
    durationMs: r.durationMs,
  };
}
