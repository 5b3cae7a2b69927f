/**
 * Builds the HTTP request for one delivery: the body in the webhook's format
 * (envelope, CloudEvent or Slack message) and the Standard Webhooks headers.
 * The `webhook-id` is derived from the event's stream position, so every retry
 * and every redelivery after a crash carries the same id.
 */
import { CLOUDEVENTS_JSON } from "../events/cloudevents.js";
import type { Envelope } from "../events/envelope.js";
import { standardWebhooksSign } from "../security/signing.js";
import { VERSION } from "../version.js";
import type { OutgoingRequest } from "./http-send.js";
import { secretsOf } from "./model.js";
import { DEFAULT_WEBHOOK_TIMEOUT_MS, type WebhookSpec } from "../config/webhook.js";
import { slackMessage } from "./template.js";
import { forwardableTraceHeaders } from "../telemetry/tracing.js";

const encoder = new TextEncoder();
/** `user-agent` of every delivery. */
export const USER_AGENT = `natsgate/${VERSION}`;

/** The Standard Webhooks message id of an event: the same for every attempt. */
export function webhookMessageId(stream: string, seq: number): string {
  return `msg_${stream}_${seq}`;
}

/** A CloudEvent (structured mode) for the envelope; `ce-*` headers of a binary-mode event are its attributes. */
export function cloudEvent(env: Envelope, id: string): Record<string, unknown> {
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id,
    source: env.stream ? `/natsgate/streams/${env.stream}` : "/natsgate",
    type: env.subject,
    time: env.time,
    datacontenttype: env.headers?.["Content-Type"] ?? "application/json",
  };
  for (const [name, value] of Object.entries(env.headers ?? {})) {
    if (name.startsWith("ce-")) event[name.slice(3)] = value;
  }
  event.data = env.data;
  return event;
}

/** The body and content type for the webhook's format. */
export function deliveryBody(hook: Pick<WebhookSpec, "format" | "template">, env: Envelope, id: string): { body: Uint8Array; contentType: string } {
  switch (hook.format) {
    case "slack":
      return { body: encoder.encode(JSON.stringify(slackMessage(hook.template, env))), contentType: "application/json" };
    case "cloudevents":
      return { body: encoder.encode(JSON.stringify(cloudEvent(env, id))), contentType: CLOUDEVENTS_JSON };
    default:
      return { body: encoder.encode(JSON.stringify(env)), contentType: "application/json" };
  }
}

/** The complete request for one attempt at `nowMs`. */
export function deliveryRequest(hook: WebhookSpec, env: Envelope, id: string, nowMs: number): OutgoingRequest {
  const { body, contentType } = deliveryBody(hook, env, id);
  const timestamp = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    ...hook.headers,
    "content-type": contentType,
    "user-agent": USER_AGENT,
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
  };
  const secrets = secretsOf(hook);
  if (secrets.length > 0) {
    headers["webhook-signature"] = secrets.map((s) => standardWebhooksSign(s, id, timestamp, body)).join(" ");
  }
  // The envelope keeps W3C trace headers under their own names; they continue the publisher's trace.
  Object.assign(headers, forwardableTraceHeaders(env.headers));
  return { url: hook.url, headers, body, timeoutMs: hook.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS };
}
