/**
 * Inbound webhooks (`POST /v1/hooks/{name}`): a configured source's signature
 * is verified over the raw body, then the body is published to the source's
 * subject through the ordinary publish path. A de-duplication id made of
 * signed content becomes Nats-Msg-Id, so a stream capturing the subject refuses
 * a replayed delivery (within its duplicate window): Standard Webhooks signs its
 * webhook-id; GitHub's X-GitHub-Delivery is not signed, so a replay could pick a
 * fresh one, and the id is the body's hash instead, as for plain HMAC; Slack
 * signs its timestamp with the body.
 */
import type { Principal } from "../security/auth.js";
import type { Config } from "../config/load.js";
import { UnauthorizedError } from "../errors.js";
import { INBOUND_MSG_ID_PREFIX } from "../nats/headers.js";
import { Permissions } from "../security/permissions.js";
import { githubVerify, hmacVerify, sha256Hex, slackVerify, standardWebhooksVerify, timestampFresh } from "../security/signing.js";

/** One configured inbound source. */
export type InboundSource = Config["inbound"][number];

/** Default header carrying a plain HMAC-SHA256 signature. */
export const DEFAULT_HMAC_HEADER = "x-signature";

/** What a verified delivery contributes to the published message. */
export interface VerifiedDelivery {
  /** De-duplication id: the sender's signed delivery id, or a hash of what it signed. */
  id: string;
}

function bad(reason: string): UnauthorizedError {
  return new UnauthorizedError(`webhook signature rejected: ${reason}`);
}

/**
 * Verifies a delivery for `source`; throws `UnauthorizedError` (401) otherwise.
 * The id is namespaced by source (`hook:<name>:…`): two sources sending the
 * same body into one stream are two deliveries, not a duplicate.
 */
export function verifyDelivery(source: InboundSource, headers: Headers, body: Uint8Array, nowMs: number): VerifiedDelivery {
  const { id } = verifySignature(source, headers, body, nowMs);
  return { id: `${INBOUND_MSG_ID_PREFIX}${source.name}:${id}` };
}

function verifySignature(source: InboundSource, headers: Headers, body: Uint8Array, nowMs: number): VerifiedDelivery {
  const { type, secret } = source.verify;
  switch (type) {
    case "standard-webhooks": {
      const id = headers.get("webhook-id");
      const ts = headers.get("webhook-timestamp");
      const sig = headers.get("webhook-signature");
      if (!id || !ts || !sig) throw bad("webhook-id, webhook-timestamp and webhook-signature are required");
      if (!/^\d{1,12}$/.test(ts) || !timestampFresh(Number(ts), nowMs)) throw bad("timestamp is missing or more than 5 minutes off");
      if (!standardWebhooksVerify(secret, id, Number(ts), body, sig)) throw bad("no matching v1 signature");
      return { id };
    }
    case "github": {
      const sig = headers.get("x-hub-signature-256");
      if (!sig || !githubVerify(secret, body, sig)) throw bad("X-Hub-Signature-256 does not match");
      return { id: `sha256:${sha256Hex(body)}` };
    }
    case "slack": {
      const ts = headers.get("x-slack-request-timestamp");
      const sig = headers.get("x-slack-signature");
      if (!ts || !sig) throw bad("X-Slack-Request-Timestamp and X-Slack-Signature are required");
      if (!/^\d{1,12}$/.test(ts) || !timestampFresh(Number(ts), nowMs)) throw bad("timestamp is missing or more than 5 minutes off");
      if (!slackVerify(secret, ts, body, sig)) throw bad("X-Slack-Signature does not match");
      return { id: `sha256:${sha256Hex(`v0:${ts}:`, body)}` };
    }
    case "hmac-sha256": {
      const sig = headers.get(source.verify.header ?? DEFAULT_HMAC_HEADER);
      if (!sig || !hmacVerify(secret, body, sig.trim())) throw bad(`${source.verify.header ?? DEFAULT_HMAC_HEADER} does not match`);
      return { id: `sha256:${sha256Hex(body)}` };
    }
  }
}

/** The principal a source publishes as: its own subject, nothing else. */
export function sourcePrincipal(source: InboundSource): Principal {
  return { name: `hook:${source.name}`, kind: "hook", permissions: new Permissions({ allow: [source.subject] }, undefined, false) };
}
