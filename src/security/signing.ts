/**
 * Webhook signatures: Standard Webhooks (HMAC-SHA256 over `id.timestamp.body`
 * with a base64 `whsec_` secret), GitHub (`X-Hub-Signature-256`), Slack (v0
 * signing secret) and plain HMAC-SHA256. Pure functions; every comparison is
 * constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Allowed distance between a signed timestamp and now: 5 minutes. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

/** The key bytes of a Standard Webhooks secret (`whsec_` + base64). */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}

const hmac = (key: Buffer | string, ...parts: (string | Uint8Array)[]) => {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Hex SHA-256 of the parts, in order: a de-duplication id made only of signed content. */
export function sha256Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** Constant-time equality of two byte strings (false for different lengths). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `v1,<base64>` signature of a Standard Webhooks message. */
export function standardWebhooksSign(secret: string, id: string, timestampSec: number, body: Uint8Array): string {
  return "v1," + hmac(standardWebhooksKey(secret), `${id}.${timestampSec}.`, body).toString("base64");
}

/** True when one of the space-separated `v1,` signatures matches. */
export function standardWebhooksVerify(secret: string, id: string, timestampSec: number, body: Uint8Array, header: string): boolean {
  const expected = hmac(standardWebhooksKey(secret), `${id}.${timestampSec}.`, body);
  let ok = false;
  for (const sig of header.split(" ")) {
    const [version, value] = sig.split(",", 2);
    if (version !== "v1" || !value) continue;
    // Check every candidate: no early exit on a match.
    if (safeEqual(expected, Buffer.from(value, "base64"))) ok = true;
  }
  return ok;
}

/** GitHub: `sha256=<hex>` HMAC of the body. */
export function githubVerify(secret: string, body: Uint8Array, header: string): boolean {
  if (!header.startsWith("sha256=")) return false;
  return safeEqual(hmac(secret, body), Buffer.from(header.slice(7), "hex"));
}

/** Slack: `v0=<hex>` HMAC of `v0:<timestamp>:<body>`. */
export function slackVerify(secret: string, timestampSec: string, body: Uint8Array, header: string): boolean {
  if (!header.startsWith("v0=")) return false;
  return safeEqual(hmac(secret, `v0:${timestampSec}:`, body), Buffer.from(header.slice(3), "hex"));
}

/** Plain HMAC-SHA256 of the body, hex (optionally `sha256=`-prefixed) or base64. */
export function hmacVerify(secret: string, body: Uint8Array, header: string): boolean {
  const value = header.startsWith("sha256=") ? header.slice(7) : header;
  const expected = hmac(secret, body);
  return safeEqual(expected, Buffer.from(value, "hex")) || safeEqual(expected, Buffer.from(value, "base64"));
}

/** True when `timestampSec` is within the tolerance of `nowMs`. */
export function timestampFresh(timestampSec: number, nowMs: number): boolean {
  return Number.isFinite(timestampSec) && Math.abs(nowMs - timestampSec * 1000) <= SIGNATURE_TOLERANCE_MS;
}
