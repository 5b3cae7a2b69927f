/**
 * The OpenAPI 3.1 description served at `/openapi.json`. Event schemas come from
 * the registry and feature parts (webhooks) bring their own paths, so the
 * document always matches what the gateway validates; this file knows neither.
 */

import { adminResponses, authResponses, jsonResponse, PUBLIC, SECURITY_SCHEMES, TOKEN_SECURITY, unavailable } from "./openapi-common.js";

/** A problem+json response object for one status. */
export type ErrorResponse = (description: string) => object;

/** Paths and component schemas a feature adds to the document. */
export interface OpenApiPart {
  paths(err: ErrorResponse): Record<string, object>;
  components(): Record<string, object>;
}

/** An event schema to publish in the document: its subject pattern and JSON Schema. */
export interface EventSchemaDoc {
  subject: string;
  jsonSchema: Record<string, unknown>;
}

const problem = { $ref: "#/components/schemas/Problem" };
const problemContent = { "application/problem+json": { schema: problem } };
const err = (description: string) => ({ description, content: problemContent });

const subjectParam = {
  name: "subject",
  in: "path",
  required: true,
  description: "NATS subject: dot-separated tokens, no wildcards, at most 256 bytes",
  schema: { type: "string", maxLength: 256 },
};

const httpToNatsHeaders = [
  { name: "Idempotency-Key", in: "header", schema: { type: "string" }, description: "Becomes Nats-Msg-Id (JetStream de-duplication)" },
  { name: "traceparent", in: "header", schema: { type: "string" }, description: "W3C trace context, forwarded as is" },
  { name: "tracestate", in: "header", schema: { type: "string" } },
  { name: "baggage", in: "header", schema: { type: "string" } },
  { name: "Expect-Stream", in: "header", schema: { type: "string" }, description: "Fail with 409 unless this stream captures the subject" },
  { name: "Expect-Last-Sequence", in: "header", schema: { type: "integer", minimum: 0 }, description: "Fail with 412 unless the stream's last sequence is this" },
];

const publishErrors = {
  "400": err("Invalid subject, malformed JSON or invalid CloudEvent"),
  "403": err("Subject reserved or not permitted"),
  "409": err("Expect-Stream mismatch"),
  "412": err("Expect-Last-Sequence mismatch"),
  "413": err("Body over the size limit"),
  "415": err("Content type not accepted for this subject"),
  "422": err("Event violates the subject's schema"),
  ...authResponses(err),
  "503": unavailable(err, "NATS unavailable"),
  "504": err("JetStream acknowledgement timed out"),
};
const adminErrors = adminResponses(err);

/** Component name for a subject pattern (`cluster.*.nodeAdded` -> `cluster_any_nodeAdded`). */
export function componentName(subject: string): string {
  return subject.replaceAll("*", "any").replaceAll(">", "all").replace(/[^A-Za-z0-9_]/g, "_");
}

/** Builds the OpenAPI document. */
export function openApiDocument(version: string, events: readonly EventSchemaDoc[], parts: readonly OpenApiPart[] = []): object {
  const eventSchemas: Record<string, object> = {};
  const eventEnvelopes: Record<string, object> = {};
  for (const { subject, jsonSchema } of events) {
    const { $schema: _ignored, ...schema } = jsonSchema;
    const name = componentName(subject);
    eventSchemas[name] = { ...schema, "x-natsgate-subject": subject };
    // What a subscriber receives for this subject: typed generators give `data` the event's type.
    eventEnvelopes[`${name}_envelope`] = {
      allOf: [{ $ref: "#/components/schemas/Envelope" }, { type: "object", properties: { data: { $ref: `#/components/schemas/${name}` } } }],
      "x-natsgate-subject": subject,
    };
  }
  return {
    openapi: "3.1.0",
    // Every operation takes credentials unless it says otherwise (probes, the console, hooks).
    security: TOKEN_SECURITY,
    info: {
      title: "natsgate",
      version,
      description: "HTTP gateway to NATS: publish validated events, request/reply, subscriptions, webhooks, schema discovery.",
    },
    paths: {
      "/v1/publish/{subject}": {
        post: {
          summary: "Publish one event",
          parameters: [subjectParam, ...httpToNatsHeaders],
          requestBody: {
            required: false,
            content: {
              "application/json": { schema: { oneOf: Object.keys(eventSchemas).map((n) => ({ $ref: `#/components/schemas/${n}` })) } },
              "application/cloudevents+json": { schema: { type: "object" } },
              "application/octet-stream": { schema: { type: "string", format: "binary" } },
            },
          },
          responses: {
            "201": jsonResponse("PublishResult", "Stored by a JetStream stream"),
            "202": jsonResponse("PublishResult", "Published on core NATS"),
            ...publishErrors,
          },
        },
      },
      "/v1/publish": {
        post: {
          summary: "Publish a batch (NDJSON or a JSON array)",
          requestBody: {
            required: true,
            content: {
              "application/x-ndjson": { schema: { $ref: "#/components/schemas/BatchItem" } },
              "application/json": { schema: { type: "array", items: { $ref: "#/components/schemas/BatchItem" } } },
            },
          },
          responses: {
            "200": jsonResponse("BatchResults", "One result per item, in order"),
            "400": err("Body is not a batch"),
            "413": err("Batch over the size limit"),
            "415": err("Content type is not NDJSON or JSON"),
            ...authResponses(err),
          },
        },
      },
      "/v1/request/{subject}": {
        post: {
          summary: "NATS request/reply",
          parameters: [subjectParam, { name: "timeout", in: "query", schema: { type: "integer", minimum: 1, maximum: 60000, default: 5000 } }],
          responses: {
            "200": { description: "The reply; its NATS headers as NatsH-* headers", content: { "*/*": {} } },
            "400": err("Invalid subject or timeout"),
            "403": err("Subject reserved or not permitted"),
            "413": err("Body over the size limit"),
            "415": err("Content type not accepted for this subject"),
            "422": err("Request violates the subject's schema"),
            ...authResponses(err),
            "503": unavailable(err, "No responders, or NATS unavailable"),
            "504": err("No reply in time"),
          },
        },
      },
      "/v1/schemas": {
        get: {
          summary: "Every registered subject pattern with its JSON Schema",
          responses: { "200": { description: "Schemas", content: { "application/json": { schema: { type: "object", properties: { schemas: { type: "array", items: { type: "object" } } } } } } }, ...authResponses(err) },
        },
      },
      "/v1/schemas/{subject}": {
        get: {
          summary: "The JSON Schema for a subject or subject pattern",
          parameters: [{ ...subjectParam, description: "A subject or registered pattern (wildcards allowed)" }],
          responses: { "200": { description: "JSON Schema", content: { "application/schema+json": { schema: { type: "object" } } } }, "400": err("Invalid subject"), "404": err("No schema"), ...authResponses(err) },
        },
      },
      ...Object.assign({}, ...parts.map((p) => p.paths(err))),
      "/v1/connections": {
        get: {
          summary: "This replica's live SSE and WebSocket sessions (admin), in opening order",
          parameters: [
            { name: "client", in: "query", schema: { type: "string" } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
            { name: "after", in: "query", schema: { type: "string" }, description: "The id after which the page starts (the previous page's next)" },
          ],
          responses: { "200": { description: "A page of sessions", content: { "application/json": { schema: { type: "object" } } } }, "400": err("Bad limit"), ...adminErrors },
        },
      },
      "/v1/connections/{id}": {
        delete: {
          summary: "Ends a session cleanly (SSE: event shutdown; WebSocket: 1001); its client resumes from its cursor",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: { "204": { description: "Ended" }, "404": err("No such live session here"), ...adminErrors },
        },
      },
      "/v1/me": {
        get: {
          summary: "The caller: name, kind, admin, and publish/subscribe rules as configured",
          responses: { "200": jsonResponse("Me", "The caller"), ...authResponses(err) },
        },
      },
      "/v1/stats": {
        get: {
          summary: "This replica's operations numbers (the console's panel): NATS state, publishes, open streams, webhook outcomes",
          description: "Open unless metrics.token is set; then that token or an admin client's.",
          responses: { "200": { description: "Counters since start, gauges now", content: { "application/json": { schema: { type: "object" } } } }, ...adminErrors },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus text format",
          description: "Open unless metrics.token is set; then that bearer token.",
          security: [{ bearer: [] }, {}],
          responses: { "200": { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } }, "401": err("metrics.token is set and was not given") },
        },
      },
      "/healthz": { get: { summary: "Process is alive", security: PUBLIC, responses: { "200": { description: "Alive", content: { "application/json": { schema: { type: "object", properties: { status: { const: "ok" } } } } } } } } },
      "/readyz": {
        get: {
          summary: "NATS connected and streams in place",
          security: PUBLIC,
          responses: { "200": { description: "Ready", content: { "application/json": { schema: { type: "object" } } } }, "503": unavailable(err, "Not ready") },
        },
      },
      "/openapi.json": { get: { summary: "This document", security: PUBLIC, responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } } },
    },
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "title", "status", "detail"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
          },
        },
        Me: {
          type: "object",
          required: ["name", "kind", "admin", "publish", "subscribe"],
          properties: {
            name: { type: "string" },
            kind: { enum: ["anonymous", "token", "password", "jwt"] },
            admin: { type: "boolean" },
            publish: { $ref: "#/components/schemas/PermissionRules" },
            subscribe: { $ref: "#/components/schemas/PermissionRules" },
            expiresAt: { type: "string", format: "date-time" },
          },
        },
        PermissionRules: {
          type: "object",
          required: ["allow", "deny"],
          properties: { allow: { type: "array", items: { type: "string" } }, deny: { type: "array", items: { type: "string" } } },
        },
        PublishResult: {
          type: "object",
          required: ["subject"],
          properties: { subject: { type: "string" }, stream: { type: "string" }, seq: { type: "integer" }, duplicate: { type: "boolean" } },
        },
        BatchItem: {
          type: "object",
          required: ["subject", "data"],
          properties: { subject: { type: "string" }, data: {}, headers: { type: "object", additionalProperties: { type: "string" } } },
        },
        BatchResults: {
          type: "object",
          properties: { results: { type: "array", items: { type: "object", required: ["index", "status"], properties: { index: { type: "integer" }, status: { type: "integer" } } } } },
        },
        ...Object.assign({}, ...parts.map((p) => p.components())),
        ...eventSchemas,
        ...eventEnvelopes,
      },
    },
  };
}
