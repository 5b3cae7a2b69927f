/**
 * CloudEvents 1.0 over HTTP, structured mode (`application/cloudevents+json`)
 * and binary mode (`ce-*` headers). Either way the event leaves as NATS binary
 * mode: the data is the payload, attributes are `ce-*` headers and
 * `datacontenttype` is the Content-Type.
 */
import { BadRequestError, type ProblemIssue } from "../errors.js";
import { isJsonMediaType, mediaType } from "../http/body.js";
import type { HeaderSource } from "../http/header-source.js";

/** Media type of structured-mode CloudEvents. */
export const CLOUDEVENTS_JSON = "application/cloudevents+json";
/** Attributes every CloudEvent must have. */
export const REQUIRED_ATTRIBUTES = ["specversion", "id", "source", "type"] as const;

const ATTRIBUTE_NAME = /^[a-z0-9]{1,64}$/;
const encoder = new TextEncoder();

/** A structured CloudEvent split into NATS binary-mode parts. */
export interface CloudEventParts {
  /** `ce-*` header pairs (datacontenttype excluded). */
  attributes: [string, string][];
  /** Content type of the data (defaults to application/json). */
  contentType: string;
  /** The data as bytes, as it will be published. */
  payload: Uint8Array;
  /** The data as a JSON value, when the content type is JSON (for schema validation). */
  json?: { value: unknown };
}

function invalid(issues: ProblemIssue[]): BadRequestError {
  return new BadRequestError(`not a valid CloudEvent: ${issues.map((i) => `${i.path || "/"} ${i.message}`).join("; ")}`, {
    slug: "invalid-cloudevent",
    title: "Invalid CloudEvent",
    issues,
  });
}

function checkRequired(get: (name: string) => unknown, prefix: string): ProblemIssue[] {
  const issues: ProblemIssue[] = [];
  for (const name of REQUIRED_ATTRIBUTES) {
    const v = get(name);
    if (typeof v !== "string" || v.length === 0) {
      issues.push({ path: prefix + name, message: `required attribute ${name} is missing or empty` });
    }
  }
  const version = get("specversion");
  if (typeof version === "string" && version !== "1.0") {
    issues.push({ path: prefix + "specversion", message: `unsupported specversion ${version}; expected 1.0` });
  }
  return issues;
}

/** Splits a parsed structured-mode CloudEvent into binary-mode parts. */
export function fromStructured(event: unknown): CloudEventParts {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw invalid([{ path: "", message: "a structured CloudEvent must be a JSON object" }]);
  }
  const ce = event as Record<string, unknown>;
  const issues = checkRequired((n) => ce[n], "/");
  const attributes: [string, string][] = [];
  for (const [name, value] of Object.entries(ce)) {
    if (name === "data" || name === "data_base64" || name === "datacontenttype") continue;
    if (!ATTRIBUTE_NAME.test(name)) {
      issues.push({ path: "/" + name, message: "attribute names are 1-64 lowercase letters or digits" });
      continue;
    }
    if (value === null || typeof value === "object") {
      issues.push({ path: "/" + name, message: "attribute values must be strings, numbers or booleans" });
      continue;
    }
    attributes.push(["ce-" + name, String(value)]);
  }
  if ("data" in ce && "data_base64" in ce) {
    issues.push({ path: "/data_base64", message: "data and data_base64 are mutually exclusive" });
  }
  if (issues.length > 0) throw invalid(issues);

  const declared = typeof ce.datacontenttype === "string" ? ce.datacontenttype : undefined;
  if (typeof ce.data_base64 === "string") {
    return {
      attributes,
      contentType: declared ?? "application/octet-stream",
      payload: new Uint8Array(Buffer.from(ce.data_base64, "base64")),
    };
  }
  const contentType = declared ?? "application/json";
  if (!("data" in ce)) return { attributes, contentType, payload: new Uint8Array(0) };
  if (isJsonMediaType(mediaType(contentType))) {
    return { attributes, contentType, payload: encoder.encode(JSON.stringify(ce.data)), json: { value: ce.data } };
  }
  if (typeof ce.data !== "string") {
    throw invalid([{ path: "/data", message: `data must be a string for datacontenttype ${contentType}` }]);
  }
  return { attributes, contentType, payload: encoder.encode(ce.data) };
}

/** True when the request is a binary-mode CloudEvent. */
export function isBinaryMode(headers: HeaderSource): boolean {
  return headers.has("ce-specversion");
}

/** Checks the required `ce-*` headers of a binary-mode CloudEvent. */
export function assertBinaryMode(headers: HeaderSource): void {
  const issues = checkRequired((n) => headers.get("ce-" + n) ?? undefined, "ce-");
  if (issues.length > 0) throw invalid(issues);
}
