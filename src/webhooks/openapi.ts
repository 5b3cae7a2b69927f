/**
 * The outbound-webhook part of `/openapi.json`: admin paths and the Webhook
 * schema, generated from the same zod schema that validates requests.
 */
import { z } from "zod";
import type { ErrorResponse, OpenApiPart } from "../http/openapi.js";
import { webhookSchema } from "../config/webhook.js";
import { adminResponses, jsonResponse as json, unavailable } from "../http/openapi-common.js";

const idParam = { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" } };
const adminErrors = (err: ErrorResponse) => ({ ...adminResponses(err), "503": unavailable(err, "NATS or JetStream unavailable") });

/** Paths under /v1/webhooks and /v1/dead-letters. */
export function webhookPaths(err: ErrorResponse): Record<string, object> {
  const common = adminErrors(err);
  const body = { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/WebhookInput" } } } };
  return {
    "/v1/webhooks": {
      get: { summary: "List webhooks (secrets never shown)", responses: { "200": { description: "Webhooks" }, ...common } },
      post: {
        summary: "Create a webhook (a durable JetStream consumer per subject pattern)",
        requestBody: body,
        responses: { "201": json("Webhook", "Created"), "400": err("Invalid webhook"), "409": err("Id taken"), "422": err("Subjects not captured by a stream, overlapping, or an internal destination"), ...common },
      },
    },
    "/v1/webhooks/{id}": {
      get: { summary: "One webhook", parameters: [idParam], responses: { "200": json("Webhook", "The webhook"), "404": err("No such webhook"), ...common } },
      put: {
        summary: "Replace (or create) a webhook; config-file webhooks accept only enabled",
        parameters: [idParam],
        requestBody: body,
        responses: { "200": json("Webhook", "Replaced"), "201": json("Webhook", "Created"), "400": err("Invalid webhook"), "409": err("Defined in the config file, or changed meanwhile"), "422": err("Not deliverable"), ...common },
      },
      delete: { summary: "Delete a webhook and its consumers", parameters: [idParam], responses: { "204": { description: "Deleted" }, "404": err("No such webhook"), "409": err("Defined in the config file"), ...common } },
    },
    "/v1/webhooks/{id}/deliveries": {
      get: {
        summary: "Recent delivery attempts, newest first",
        parameters: [idParam, { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } }],
        responses: { "200": { description: "Attempts" }, "404": err("No such webhook"), ...common },
      },
    },
    "/v1/webhooks/{id}/test": {
      post: { summary: "Send a signed sample event now and report the answer", parameters: [idParam], responses: { "200": { description: "The attempt" }, "404": err("No such webhook"), ...common } },
    },
    "/v1/webhooks/{id}/replay": {
      post: {
        summary: "Deliver again every event after a cursor (STREAM:SEQ) or from an RFC 3339 time, up to now",
        parameters: [idParam],
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["from"], properties: { from: { type: "string" } } } } } },
        responses: { "202": { description: "Replays started" }, "400": err("Bad from"), "404": err("No such webhook"), "409": err("Webhook disabled"), ...common },
      },
    },
    "/v1/dead-letters": {
      get: {
        summary: "Dead letters, oldest first",
        parameters: [
          { name: "webhook", in: "query", schema: { type: "string" } },
          { name: "after", in: "query", schema: { type: "integer", minimum: 0 }, description: "Only dead letters with a larger id" },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { "200": { description: "Dead letters and, when more may follow, next" }, "400": err("Bad query"), ...common },
      },
    },
    "/v1/dead-letters/{id}/retry": {
      post: {
        summary: "Deliver a dead letter now; removed on a 2xx, kept otherwise",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } }],
        responses: { "200": { description: "Delivered" }, "404": err("No such dead letter"), "502": err("The destination did not accept it"), ...common },
      },
    },
  };
}

/** Component schemas for the webhook paths. */
export function webhookComponents(): Record<string, object> {
  const input = z.toJSONSchema(webhookSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const { $schema: _s, ...inputSchema } = input;
  return {
    WebhookInput: inputSchema,
    Webhook: {
      type: "object",
      description: "A stored webhook: the input's fields (secret replaced by secrets, a count), plus state",
      properties: {
        id: { type: "string" },
        source: { enum: ["api", "config"] },
        secrets: { type: "integer" },
        enabled: { type: "boolean" },
        disabledReason: { type: "string" },
        createdAt: { type: "string", format: "date-time" },
        updatedAt: { type: "string", format: "date-time" },
      },
    },
  };
}

/** The webhook admin API's part of `/openapi.json`. */
export const webhookOpenApi: OpenApiPart = { paths: webhookPaths, components: webhookComponents };
