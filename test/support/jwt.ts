/** Signing test JWTs (the gateway only verifies them). */
import { SignJWT, type JWTPayload } from "jose";
import type { KeyObject } from "node:crypto";

/** Options for `signToken`. */
export interface TokenOptions {
  alg?: string;
  kid?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  /** Seconds from now for nbf. */
  notBefore?: number;
  subject?: string;
  claims?: JWTPayload;
}

/** A signed compact JWT. */
export async function signToken(key: KeyObject | Uint8Array, o: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(o.claims ?? {}).setProtectedHeader({ alg: o.alg ?? "HS256", ...(o.kid ? { kid: o.kid } : {}) }).setIssuedAt(now);
  if (o.subject !== "") jwt.setSubject(o.subject ?? "tester");
  if (o.issuer) jwt.setIssuer(o.issuer);
  if (o.audience) jwt.setAudience(o.audience);
  if (o.expiresIn !== Infinity) jwt.setExpirationTime(now + (o.expiresIn ?? 300));
  if (o.notBefore !== undefined) jwt.setNotBefore(now + o.notBefore);
  return jwt.sign(key);
}

/** base64url of a JSON value (for hand-made, tampered tokens). */
export const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
