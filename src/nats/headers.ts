/**
 * Header mapping between HTTP and NATS, the same in both directions everywhere
 * a message crosses the gateway (publish, batch, request/reply, and later SSE,
 * WebSocket and webhooks).
 *
 *   HTTP                      NATS
 *   traceparent/tracestate/baggage  same name
 *   Idempotency-Key           Nats-Msg-Id
 *   NatsH-<Name>              <Name>
 *   Content-Type              Content-Type
 *   ce-<attr>                 ce-<attr>      (CloudEvents binary mode)
 */
import { canonicalMIMEHeaderKey, Match, MsgHdrsImpl, type MsgHdrs } from "@nats-io/nats-core";
import { BadRequestError } from "../errors.js";

/** Prefix of HTTP headers that carry arbitrary NATS headers. */
export const NATS_HEADER_PREFIX = "natsh-";
const NATS_HEADER_PREFIX_OUT = "NatsH-";
/** JetStream's de-duplication header. */
export const MSG_ID_HEADER = "Nats-Msg-Id";
/** Message ids the gateway gives inbound webhook deliveries; a client's Idempotency-Key may not take one. */
export const INBOUND_MSG_ID_PREFIX = "hook:";

const TRACE_HEADERS = new Set(["traceparent", "tracestate", "baggage"]);

/**
 * The NATS header name an HTTP header maps to, or undefined when it does not
 * travel. `name` may be in any case.
 */
export function natsHeaderName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (TRACE_HEADERS.has(lower)) return lower;
  if (lower === "idempotency-key") return MSG_ID_HEADER;
  if (lower === "content-type") return "Content-Type";
  if (lower.startsWith("ce-") && lower.length > 3) return lower;
  if (lower.startsWith(NATS_HEADER_PREFIX) && lower.length > NATS_HEADER_PREFIX.length) {
    const target = canonicalMIMEHeaderKey(lower.slice(NATS_HEADER_PREFIX.length));
    // Nats-* headers steer NATS and JetStream (rollups, expectations, TTLs, de-duplication):
    // only the gateway sets them, from Idempotency-Key, Expect-Stream and Expect-Last-Sequence.
    if (target.toLowerCase().startsWith("nats-")) {
      throw new BadRequestError(`header ${name} would set the NATS control header ${target}; use Idempotency-Key, Expect-Stream or Expect-Last-Sequence`);
    }
    return target;
  }
  return undefined;
}

/** The HTTP header name a NATS header maps to (inverse of `natsHeaderName`). */
export function httpHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (TRACE_HEADERS.has(lower)) return lower;
  if (lower === "nats-msg-id") return "Idempotency-Key";
  if (lower === "content-type") return "Content-Type";
  if (lower.startsWith("ce-")) return lower;
  return NATS_HEADER_PREFIX_OUT + name;
}

/** Distinct Content-Type blocks kept encoded: clients choose the value, so the cache is bounded. */
const MAX_CACHED_BLOCKS = 64;
const encodedBlocks = new Map<string, Uint8Array>();

/**
 * Headers whose wire form is reused when they hold only a Content-Type, as
 * most published events do: nats.js would otherwise build and encode the same
 * block for every message. Anything else (trace context, a message id, a
 * header set later by the JetStream path) is encoded by nats.js as usual,
 * since the check runs when the message is sent.
 */
class EventHeaders extends MsgHdrsImpl {
  // nats.js lists and filters every key to find one: an exact name is one map lookup.
  override has(k: string, match: Match = Match.Exact): boolean {
    return match === Match.Exact ? this.headers.has(k) : super.has(k, match);
  }

  override encode(): Uint8Array {
    const only = this.headers.size === 1 && this._code === 0 ? this.headers.get("Content-Type") : undefined;
    if (only?.length !== 1) return super.encode();
    let block = encodedBlocks.get(only[0]!);
    if (block === undefined) {
      block = super.encode();
      if (encodedBlocks.size < MAX_CACHED_BLOCKS) encodedBlocks.set(only[0]!, block);
    }
    return block;
  }
}

const JSON_TYPE = "application/json";

/** Empty NATS headers for an outgoing message (see EventHeaders). */
export function natsHeaders(): MsgHdrs {
  return new EventHeaders();
}

/**
 * Builds the NATS headers for a message from HTTP-style header pairs. Names
 * that do not map are dropped; `contentType`, when given, wins over any
 * Content-Type among the pairs.
 */
export function natsHeadersFromHttp(
  pairs: Iterable<[string, string]>,
  contentType?: string,
): MsgHdrs {
  const h = new EventHeaders();
  for (const [name, value] of pairs) {
    const mapped = natsHeaderName(name);
    if (mapped === undefined || mapped === "Content-Type") continue;
    // Else a client could pre-empt an inbound delivery: the stream would refuse it as a duplicate.
    if (mapped === MSG_ID_HEADER && value.startsWith(INBOUND_MSG_ID_PREFIX)) {
      throw new BadRequestError(`Idempotency-Key values starting with ${INBOUND_MSG_ID_PREFIX} are reserved for inbound webhooks`);
    }
    h.append(mapped, value);
  }
  if (contentType === JSON_TYPE && h.headers.size === 0) h.headers.set("Content-Type", [JSON_TYPE]); // what set() stores, minus its key search and checks
  else if (contentType) h.set("Content-Type", contentType);
  return h;
}

/** HTTP header pairs for a NATS message's headers (status pseudo-headers excluded). */
export function httpHeadersFromNats(h: MsgHdrs | undefined): [string, string][] {
  if (!h) return [];
  const out: [string, string][] = [];
  for (const key of h.keys()) {
    const values = h.values(key);
    out.push([httpHeaderName(key), values.join(", ")]);
  }
  return out;
}

/** The same as `httpHeadersFromNats`, as a plain object (for JSON envelopes). */
export function httpHeaderRecord(h: MsgHdrs | undefined): Record<string, string> | undefined {
  if (!h || h.keys().length === 0) return undefined;
  return Object.fromEntries(httpHeadersFromNats(h));
}
