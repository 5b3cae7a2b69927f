/**
 * Turning what a client sent into the message NATS receives: subject rules,
 * content types, CloudEvents, schema validation and header mapping. One
 * implementation serves single publish, batch items and request/reply (and
 * later WebSocket and inbound webhooks), so the rules cannot drift apart.
 *
 * The payload published is the exact bytes that were validated; JSON is
 * parsed to validate it, never re-serialised (except batch and CloudEvents
 * structured mode, where the data arrives inside a larger document).
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import { SchemaRegistry } from "./registry.js";
import { isJsonMediaType, mediaType, parseJson } from "../http/body.js";
import { assertBinaryMode, CLOUDEVENTS_JSON, fromStructured, isBinaryMode } from "./cloudevents.js";
import {
  BadRequestError,
  ForbiddenError,
  NoSchemaError,
  PayloadTooLargeError,
  SchemaViolationError,
  UnsupportedMediaTypeError,
  subjectRefused,
} from "../errors.js";
import { natsHeadersFromHttp } from "../nats/headers.js";
import type { Principal } from "../security/auth.js";
import { assertPublishSubject, isReservedSubject } from "../nats/subjects.js";

/** JetStream expectations from `Expect-Stream` / `Expect-Last-Sequence`. */
export interface Expectations {
  stream?: string;
  lastSequence?: number;
}

/** A message ready for NATS. */
export interface OutboundEvent {
  subject: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  expect?: Expectations;
}

/** What event preparation needs to know. */
export interface EventRules {
  registry: SchemaRegistry;
  /** Refuse subjects without a schema (`schemas.strict`). */
  strict: boolean;
  /** The gateway's own streams (webhook registry with its secrets, journal): no stream may copy them. */
  internalStreams?: readonly string[];
}

// Creating or updating a stream through the JetStream API, with or without a domain.
const STREAM_CONFIG_API = /^\$JS\.(?:[^.]+\.)?API\.STREAM\.(?:CREATE|UPDATE)\.[^.]+$/;

/**
 * A client granted the JetStream API may manage streams, but not make one that
 * mirrors or sources the gateway's own: that would copy webhook secrets to
 * where its grants reach (403).
 */
function assertNoInternalCopy(rules: EventRules, subject: string, payload: Uint8Array): void {
  if (!rules.internalStreams?.length || subject.charCodeAt(0) !== 36 || !STREAM_CONFIG_API.test(subject)) return;
  let config: { mirror?: { name?: unknown }; sources?: { name?: unknown }[] };
  try {
    config = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return; // not JSON: the server refuses it
  }
  const named = [config?.mirror?.name, ...(Array.isArray(config?.sources) ? config.sources.map((s) => s?.name) : [])];
  const internal = named.find((n) => typeof n === "string" && rules.internalStreams!.includes(n));
  if (internal !== undefined) throw new ForbiddenError(`a stream may not mirror or source the gateway's own stream ${internal}`, subject);
}

const encoder = new TextEncoder();

/** Throws unless `principal` may publish to `subject`: syntax (400), then permissions (403). */
export function assertMayPublish(principal: Principal, subject: string): void {
  assertPublishSubject(subject);
  if (principal.permissions.publish.permits(subject)) return;
  throw subjectRefused(principal.name, "publish to", subject, isReservedSubject(subject));
}

/** Validates a JSON value against the subject's schema, honouring strict mode. */
export function validateEvent(rules: EventRules, subject: string, value: unknown): void {
  const entry = rules.registry.lookup(subject);
  if (!entry) {
    if (rules.strict) throw new NoSchemaError(subject);
    return;
  }
  const issues = SchemaRegistry.issues(entry, value);
  if (issues.length > 0) throw new SchemaViolationError(subject, issues);
}


/** Reads `Expect-Stream` and `Expect-Last-Sequence`; 400 on a malformed sequence. */
export function parseExpectations(get: (name: string) => string | null | undefined): Expectations | undefined {
  const stream = get("expect-stream") ?? undefined;
  const last = get("expect-last-sequence") ?? undefined;
  if (stream === undefined && last === undefined) return undefined;
  const expect: Expectations = {};
  if (stream !== undefined) {
    if (stream.trim() === "") throw new BadRequestError("Expect-Stream must name a stream");
    expect.stream = stream.trim();
  }
  if (last !== undefined) {
    if (!/^\d{1,16}$/.test(last.trim())) {
      throw new BadRequestError(`Expect-Last-Sequence must be a non-negative integer, got ${JSON.stringify(last)}`);
    }
    expect.lastSequence = Number(last.trim());
  }
  return expect;
}

/** Prepares a single HTTP publish (`POST /v1/publish/{subject}` or a request). */
export function eventFromHttp(
  rules: EventRules,
  principal: Principal,
  subject: string,
  headers: Headers,
  body: Uint8Array,
): OutboundEvent {
  assertMayPublish(principal, subject);
  const contentType = headers.get("content-type") ?? undefined;
  const type = mediaType(contentType);
  const expect = parseExpectations((n) => headers.get(n));

  if (type === CLOUDEVENTS_JSON) {
    const ce = fromStructured(parseJson(body));
    checkData(rules, subject, ce.json, ce.contentType);
    const h = natsHeadersFromHttp([...headers, ...ce.attributes], ce.contentType);
    assertNoInternalCopy(rules, subject, ce.payload);
    return { subject, payload: ce.payload, headers: h, expect };
  }
  if (type?.startsWith("application/cloudevents")) {
    throw new UnsupportedMediaTypeError(`${type} is not accepted here; send one event as application/cloudevents+json`);
  }
  if (isBinaryMode(headers)) assertBinaryMode(headers);
  const json = isJsonMediaType(type) ? { value: parseJson(body) } : undefined;
  checkData(rules, subject, json, contentType);
  assertNoInternalCopy(rules, subject, body);
  return { subject, payload: body, headers: natsHeadersFromHttp(headers, contentType), expect };
}

function checkData(rules: EventRules, subject: string, json: { value: unknown } | undefined, contentType?: string) {
  if (json) return validateEvent(rules, subject, json.value);
  const entry = rules.registry.lookup(subject);
  if (entry) {
    throw new UnsupportedMediaTypeError(
      `${subject} has a schema (${entry.subject}); send it as application/json, not ${contentType ?? "without a content type"}`,
    );
  }
  if (rules.strict) throw new NoSchemaError(subject);
}

/** Prepares one batch item `{subject, data, headers?}`; `limit` caps the data's size. */
export function eventFromItem(rules: EventRules, principal: Principal, item: unknown, limit: number): OutboundEvent {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new BadRequestError("a batch item must be an object {subject, data, headers?}");
  }
  const { subject, data, headers } = item as Record<string, unknown>;
  if (typeof subject !== "string") throw new BadRequestError("subject must be a string");
  assertMayPublish(principal, subject);
  if (data === undefined) throw new BadRequestError("data is required (use null for an empty event)");
  const pairs = headerPairs(headers);
  validateEvent(rules, subject, data);
  const payload = encoder.encode(JSON.stringify(data));
  if (payload.byteLength > limit) throw new PayloadTooLargeError(limit);
  assertNoInternalCopy(rules, subject, payload);
  const lookup = new Map(pairs.map(([k, v]) => [k.toLowerCase(), v]));
  const expect = parseExpectations((n) => lookup.get(n));
  return { subject, payload, headers: natsHeadersFromHttp(pairs, "application/json"), expect };
}

function headerPairs(headers: unknown): [string, string][] {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== "object" || Array.isArray(headers)) {
    throw new BadRequestError("headers must be an object of header names to string values");
  }
  const pairs = Object.entries(headers as Record<string, unknown>);
  for (const [name, value] of pairs) {
    if (typeof value !== "string") throw new BadRequestError(`header ${name} must be a string`);
    if (/[\r\n\0]/.test(value) || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      throw new BadRequestError(`header ${JSON.stringify(name)} is not a valid header`);
    }
  }
  return pairs as [string, string][];
}
