/**
 * Batch publish: NDJSON or a JSON array of `{subject, data, headers?}`. Items
 * are prepared and published independently (one bad item fails alone), with
 * JetStream acks pipelined up to a window, and results reported in order.
 */
import { decodeUtf8, DEFAULT_MAX_JSON_DEPTH, mediaType, parseJsonText, walkJson } from "../http/body.js";
import {
  BadRequestError,
  GatewayError,
  MalformedJsonError,
  UnsupportedMediaTypeError,
  internalProblem,
  type Problem,
} from "../errors.js";
import { outcomeOf, who, type AuditLog } from "../security/audit.js";
import type { Principal } from "../security/auth.js";
import type { RequestIds } from "../telemetry/http.js";
import { traceFields } from "../telemetry/tracing.js";
import { eventFromItem, type EventRules } from "../events/event.js";
import { publishStatus, type Publisher, type PublishResult, type SendSink } from "./publisher.js";
import type { Context as TraceContext } from "@opentelemetry/api";

/** JetStream publishes awaiting their ack at once within one batch. */
export const DEFAULT_BATCH_WINDOW = 256;

/** Media types accepted for batches. */
export const NDJSON_TYPES = new Set(["application/x-ndjson", "application/jsonl", "application/ndjson"]);

/** One item's outcome: a publish result or a problem. */
export type BatchItemResult = { index: number; status: number } & (PublishResult | Omit<Problem, "status">);

/** An item as parsed from the body: its value, or why it could not be read. */
export type ParsedItem = { value: unknown } | { error: GatewayError };

/** Splits a batch body into items. Malformed NDJSON lines become failed items. */
export function parseBatch(body: Uint8Array, contentType: string | undefined, maxItems: number, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): ParsedItem[] {
  const type = mediaType(contentType);
  let text: string;
  try {
    text = decodeUtf8(body);
  } catch (err) {
    throw new MalformedJsonError(err);
  }
  const tooMany = () => new BadRequestError(`a batch holds at most ${maxItems} items; this one has more`);
  let items: ParsedItem[];
  // Items are counted before any is parsed: a body of millions of tiny items ([{},{},…])
  // would otherwise become millions of objects (gigabytes, seconds of blocked event loop).
  if (type === "application/json") {
    if (arrayItemsExceed(text, maxItems)) throw tooMany();
    // The array and each item object wrap an event's data: two levels more.
    const doc = parseJsonText(text, maxDepth, 2);
    if (!Array.isArray(doc)) throw new BadRequestError("a JSON batch must be an array of {subject, data, headers?}");
    items = doc.map((value) => ({ value }));
  } else if (type !== undefined && NDJSON_TYPES.has(type)) {
    const lines = nonBlankLines(text, maxItems);
    if (lines === undefined) throw tooMany();
    items = lines.map((line) => {
      try {
        return { value: parseJsonText(line, maxDepth, 1) };
      } catch (err) {
        return { error: err instanceof GatewayError ? err : new MalformedJsonError(err) };
      }
    });
  } else {
    throw new UnsupportedMediaTypeError(
      `a batch is application/x-ndjson or application/json (an array), not ${type ?? "without a content type"}`,
    );
  }
  return items;
}

/** True when a JSON array document has more than `max` top-level elements (one pass, nothing parsed). */
export function arrayItemsExceed(text: string, max: number): boolean {
  let commas = 0; // a non-empty array has one element more than it has top-level commas
  return walkJson(text, (c, depth) => c === 0x2c && depth === 1 && ++commas >= max);
}

/** The non-blank lines of an NDJSON body, or undefined as soon as there are more than `max`. */
function nonBlankLines(text: string, max: number): string[] | undefined {
  const lines: string[] = [];
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    if (/\S/.test(line)) {
      if (lines.length === max) return undefined;
      lines.push(line);
    }
    start = end + 1;
  }
  return lines;
}

function failure(index: number, err: unknown): BatchItemResult {
  const { status, ...problem } = err instanceof GatewayError ? err.toProblem() : internalProblem();
  return { index, status, ...problem };
}

/**
 * Publishes every item; resolves with one result per item, in order. After one
 * turn wait the items are handed to NATS in order in one synchronous run (one
 * socket write, one confirming ping for the core ones); only JetStream acks are
 * held to `window` in flight, so a batch of core events never waits on a round
 * trip part-way.
 */
export async function publishBatch(
  items: ParsedItem[],
  rules: EventRules,
  principal: Principal,
  publisher: Publisher,
  limit: number,
  /** The request's trace context: the parent of items that carry no traceparent of their own. */
  trace?: TraceContext,
  window = DEFAULT_BATCH_WINDOW,
): Promise<BatchItemResult[]> {
  const results = new Array<BatchItemResult>(items.length);
  // Counts and one waiter rather than a set of promises raced: no promise or race reactions per item.
  let inFlight = 0;
  let acksInFlight = 0;
  let draining = false;
  let wake: (() => void) | undefined;
  const sink: SendSink = {
    settled(index, outcome, acked) {
      results[index] = outcome instanceof GatewayError ? failure(index, outcome) : { index, status: publishStatus(outcome), ...outcome };
      inFlight--;
      if (acked) acksInFlight--;
      if (wake !== undefined && (draining ? inFlight === 0 : acksInFlight < window)) {
        wake();
        wake = undefined;
      }
    },
  };
  await publisher.turn();
  for (let index = 0; index < items.length; index++) {
    const item = items[index]!;
    if ("error" in item) {
      results[index] = failure(index, item.error);
      continue;
    }
    let ev;
    try {
      ev = eventFromItem(rules, principal, item.value, limit);
    } catch (err) {
      results[index] = failure(index, err);
      continue;
    }
    inFlight++;
    if (publisher.send(ev, ev.headers.has("traceparent") ? undefined : trace, sink, index)) acksInFlight++;
    if (acksInFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
  }
  // The last waiter: woken once everything in flight has settled.
  draining = true;
  if (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  return results;
}

/** One audit record per batch item, with the subject and idempotency key it named. */
export function auditBatch(audit: AuditLog, items: ParsedItem[], results: BatchItemResult[], principal: Principal, remote: string | undefined, ids: RequestIds): void {
  if (!audit.enabled) return;
  const { traceId, ...requestIds } = ids;
  audit.recordEach(
    { action: "publish", ...who(principal), remote, ...requestIds },
    results.map((r, i) => {
      const item = items[i]!;
      const value = "value" in item ? (item.value as { subject?: unknown; headers?: Record<string, unknown> } | null) : null;
      const headers = value?.headers && typeof value.headers === "object" ? Object.entries(value.headers) : [];
      const key = headers.find(([name]) => name.toLowerCase() === "idempotency-key")?.[1];
      const traceparent = headers.find(([name]) => name.toLowerCase() === "traceparent")?.[1];
      const stored = "seq" in r ? (r as PublishResult) : undefined;
      return {
        outcome: outcomeOf(r.status),
        status: r.status,
        subject: typeof value?.subject === "string" ? value.subject : undefined,
        msgId: typeof key === "string" ? key : undefined,
        ...(stored ? { stream: stored.stream, seq: stored.seq } : {}),
        // An item with its own trace context is published in that trace, not the request's.
        traceId: (typeof traceparent === "string" ? traceFields({ traceparent }).traceId : undefined) ?? traceId,
      };
    }),
  );
}
