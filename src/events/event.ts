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
import { DEFAULT_MAX_JSON_DEPTH, isJsonMediaType, jsonDeeperThan, mediaType, parseJson } from "../http/body.js";
import { assertBinaryMode, CLOUDEVENTS_JSON, fromStructured, isBinaryMode } from "./cloudevents.js";
import {
  BadRequestError,
  ForbiddenError,
  JsonTooDeepError,
  NoSchemaError,
  PayloadTooLargeError,
  SchemaViolationError,
  UnsupportedMediaTypeError,
  subjectRefused,
} from "../errors.js";
import { natsHeadersFromHttp } from "../nats/headers.js";
import type { Principal } from "../security/auth.js";
import type { HeaderSource } from "../http/header-source.js";
import { assertPublishSubject, isReservedSubject, patternsOverlap } from "../nats/subjects.js";

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
  /** The gateway's internal subjects: no stream may capture or republish to them. */
  internalSubjects?: readonly string[];
  /** Deepest JSON accepted (`server.maxJsonDepth`; default DEFAULT_MAX_JSON_DEPTH). */
  maxJsonDepth?: number;
}

// Creating or updating a stream through the JetStream API, with or without a domain.
const STREAM_CONFIG_API = /^\$JS\.(?:[^.]+\.)?API\.STREAM\.(?:CREATE|UPDATE)\.[^.]+$/;
// nats-server decodes with Go's encoding/json: field names match case-insensitively (with
// Unicode folding, ſ for s) and a repeated field merges into the first. Only plain names
// are let through, and the server is sent the object that was checked, re-serialised.
const PLAIN_FIELD = /^[a-z0-9_]+$/;

type Config = Record<string, unknown>;
const objectOf = (v: unknown): Config | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Config) : undefined);

function assertPlainFields(where: string, v: Config | undefined): void {
  const odd = v && Object.keys(v).find((k) => !PLAIN_FIELD.test(k));
  if (odd !== undefined) throw new BadRequestError(`stream config field ${JSON.stringify(odd)}${where} must be lower case (a-z, 0-9, _)`);
}

/**
 * A client granted the JetStream API may manage streams, but not make one that
 * copies the gateway's own data: a mirror or source of its streams (the webhook
 * registry holds secrets), or subjects or republish targets that reach its
 * internal subjects (its reply inboxes carry registry reads). Returns the
 * payload to send: for stream configs, the checked object re-serialised.
 */
function guardInternalCopy(rules: EventRules, subject: string, payload: Uint8Array): Uint8Array {
  if (!rules.internalStreams?.length || subject.charCodeAt(0) !== 36 || !STREAM_CONFIG_API.test(subject)) return payload;
  let config: Config | undefined;
  // Whatever its content type, this body is re-serialised below: hold it to the depth limit.
  if (jsonDeeperThan(payload, rules.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH)) throw new JsonTooDeepError(rules.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH);
  try {
    config = objectOf(JSON.parse(new TextDecoder().decode(payload)));
  } catch {
    return payload; // not JSON: the server refuses it
  }
  if (!config) return payload;
  const mirror = objectOf(config.mirror);
  const sources = Array.isArray(config.sources) ? config.sources.map(objectOf) : [];
  assertPlainFields("", config);
  assertPlainFields(" in mirror", mirror);
  sources.forEach((src, i) => assertPlainFields(` in sources[${i}]`, src));
  const refuse = (why: string) => {
    throw new ForbiddenError(`a stream may not ${why}`, subject);
  };
  for (const name of [mirror?.name, ...sources.map((src) => src?.name)]) {
    if (typeof name === "string" && rules.internalStreams.includes(name)) refuse(`mirror or source the gateway's own stream ${name}`);
  }
  const reaches = (pattern: unknown) =>
    typeof pattern === "string" && (rules.internalSubjects ?? []).some((i) => patternsOverlap(pattern.split("."), i.split(".")));
  const republish = objectOf(config.republish);
  const transform = objectOf(config.subject_transform);
  const targets = [...(Array.isArray(config.subjects) ? config.subjects : []), republish?.dest, transform?.dest];
  const hit = targets.find(reaches);
  if (hit !== undefined) refuse(`capture or republish to ${hit}, which reaches the gateway's internal subjects`);
  return encoder.encode(JSON.stringify(config));
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
  headers: HeaderSource,
  body: Uint8Array,
): OutboundEvent {
  assertMayPublish(principal, subject);
  const contentType = headers.get("content-type") ?? undefined;
  const type = mediaType(contentType);
  const expect = parseExpectations((n) => headers.get(n));

  if (type === CLOUDEVENTS_JSON) {
    // The CloudEvent object wraps the data: one level more.
    const ce = fromStructured(parseJson(body, rules.maxJsonDepth, 1));
    checkData(rules, subject, ce.json, ce.contentType);
    const h = natsHeadersFromHttp([...headers, ...ce.attributes], ce.contentType);
    return { subject, payload: guardInternalCopy(rules, subject, ce.payload), headers: h, expect };
  }
  if (type?.startsWith("application/cloudevents")) {
    throw new UnsupportedMediaTypeError(`${type} is not accepted here; send one event as application/cloudevents+json`);
  }
  if (isBinaryMode(headers)) assertBinaryMode(headers);
  const json = isJsonMediaType(type) ? { value: parseJson(body, rules.maxJsonDepth) } : undefined;
  checkData(rules, subject, json, contentType);
  return { subject, payload: guardInternalCopy(rules, subject, body), headers: natsHeadersFromHttp(headers, contentType), expect };
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
  // Buffer.from, not TextEncoder: a few hundred bytes come from Node's pool, 3-4x cheaper (0.17 vs 0.5-0.8 µs).
  const payload = guardInternalCopy(rules, subject, Buffer.from(JSON.stringify(data)));
  if (payload.byteLength > limit) throw new PayloadTooLargeError(limit);
  const expect = pairs.length === 0 ? undefined : parseExpectations((n) => pairs.findLast(([k]) => k.toLowerCase() === n)?.[1]);
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
