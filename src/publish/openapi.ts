/**
 * The inbound-webhook part of `/openapi.json`: `POST /v1/hooks/{name}`, where
 * the sender's signature (Standard Webhooks, GitHub, Slack or a plain HMAC, as
 * `inbound[].verify` says) is the credential, not a token.
 */
import type { ErrorResponse, OpenApiPart } from "../http/openapi.js";
import { jsonResponse, PUBLIC, unavailable } from "../http/openapi-common.js";

const header = (name: string, description: string) => ({ name, in: "header", schema: { type: "string" }, description });

function paths(err: ErrorResponse): Record<string, object> {
  return {
    "/v1/hooks/{name}": {
      post: {
        summary: "Receive a signed webhook from another system and publish it to the source's subject",
        description: "The body is published as received. Each delivery becomes one Nats-Msg-Id, so a redelivered one is a 409 where a stream captures the subject.",
        security: PUBLIC,
        parameters: [
          { name: "name", in: "path", required: true, schema: { type: "string" }, description: "inbound[].name" },
          header("webhook-id", "Standard Webhooks"),
          header("webhook-timestamp", "Standard Webhooks: Unix seconds, within 5 minutes"),
          header("webhook-signature", "Standard Webhooks: v1,<base64 HMAC-SHA256>"),
          header("X-Hub-Signature-256", "GitHub: sha256=<hex>"),
          header("X-Slack-Request-Timestamp", "Slack: Unix seconds, within 5 minutes"),
          header("X-Slack-Signature", "Slack: v0=<hex>"),
          header("X-Signature", "hmac-sha256 (or the header inbound[].verify.header names): HMAC-SHA256 of the body in hex or base64, optionally after sha256="),
        ],
        requestBody: { required: true, content: { "*/*": { schema: {} } } },
        responses: {
          "201": jsonResponse("PublishResult", "Stored by a JetStream stream"),
          "202": jsonResponse("PublishResult", "Published on core NATS"),
          "400": err("Body not accepted for the source's subject"),
          "401": err("Missing or wrong signature, or a stale timestamp"),
          "404": err("No inbound webhook by that name"),
          "409": err("This delivery was already received"),
          "413": err("Body over the size limit"),
          "422": err("Body violates the subject's schema"),
          "503": unavailable(err, "NATS unavailable"),
          "504": err("JetStream acknowledgement timed out"),
        },
      },
    },
  };
}

/** `/v1/hooks/{name}` in `/openapi.json`. */
export const inboundOpenApi: OpenApiPart = { paths, components: () => ({}) };
