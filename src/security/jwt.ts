/**
 * JWT verification with `jose`. The key decides the algorithms: a shared
 * secret only verifies HS256/384/512, a public key or JWKS only the asymmetric
 * ones — so a token signed with HMAC over a public key (algorithm confusion)
 * and `alg: none` are refused. `iss`, `aud`, `exp` and `nbf` are checked with a
 * small clock skew.
 */
import { createPublicKey, createSecretKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import type { Config } from "../config/load.js";
import { ConfigError } from "../config/errors.js";
import { publishRules, subscribeRules } from "../config/schema.js";
import { UnauthorizedError } from "../errors.js";
import { GATEWAY_INTERNAL, Permissions } from "./permissions.js";

/** Symmetric algorithms accepted with `auth.jwt.secret`. */
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"];
/** Asymmetric algorithms accepted with `publicKey` or `jwksUrl`. */
export const PUBLIC_KEY_ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** Allowed clock skew for exp/nbf, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_S = 30;

/** The `natsgate` claim: the same rules as a client in the config file. */
export const natsgateClaim = z.strictObject({ publish: publishRules.optional(), subscribe: subscribeRules.optional(), admin: z.boolean().default(false) });

/** A verified token's identity. */
export interface VerifiedJwt {
  name: string;
  permissions: Permissions;
  /** Expiry in ms since the epoch. */
  expiresAt: number;
}

/** True when a bearer token has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function publicKeyFrom(value: string): KeyObject {
  const pem = value.includes("-----BEGIN") ? value : readFileSync(value, "utf8");
  return createPublicKey(pem);
}

/** Verifies JWTs per `auth.jwt`. */
export class JwtVerifier {
  readonly #key: KeyObject | JWTVerifyGetKey;
  readonly #algorithms: string[];
  readonly #options: { issuer?: string; audience?: string };
  readonly #now: () => number;
  readonly #internal: readonly string[];

  constructor(jwt: NonNullable<Config["auth"]["jwt"]>, now: () => number = Date.now, internal: readonly string[] = GATEWAY_INTERNAL) {
    this.#now = now;
    this.#internal = internal;
    this.#options = { issuer: jwt.issuer, audience: jwt.audience };
    if (jwt.secret) {
      this.#key = createSecretKey(Buffer.from(jwt.secret, "utf8"));
      this.#algorithms = HMAC_ALGORITHMS;
    } else if (jwt.publicKey) {
      try {
        this.#key = publicKeyFrom(jwt.publicKey);
      } catch (err) {
        throw new ConfigError("auth.jwt.publicKey", `not a PEM public key or a readable PEM file: ${(err as Error).message}`, { cause: err });
      }
      this.#algorithms = PUBLIC_KEY_ALGORITHMS;
    } else if (jwt.jwksUrl) {
      // jose caches the set and refetches it when a token names an unknown kid.
      this.#key = createRemoteJWKSet(new URL(jwt.jwksUrl), { cooldownDuration: jwt.jwksCooldownMs, cacheMaxAge: 10 * 60_000 });
      this.#algorithms = PUBLIC_KEY_ALGORITHMS;
    } else {
      throw new ConfigError("auth.jwt", "needs one of secret, publicKey or jwksUrl");
    }
  }

  /** Verifies `token`; throws `UnauthorizedError` with the reason otherwise. */
  async verify(token: string): Promise<VerifiedJwt> {
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, this.#key as KeyObject, {
        algorithms: this.#algorithms,
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        clockTolerance: DEFAULT_CLOCK_TOLERANCE_S,
        requiredClaims: ["exp", "sub"],
        currentDate: new Date(this.#now()),
      });
      payload = result.payload;
    } catch (err) {
      throw new UnauthorizedError(`invalid token: ${reason(err)}`, false, { cause: err });
    }
    const claim = natsgateClaim.safeParse(payload.natsgate ?? {});
    if (!claim.success) throw new UnauthorizedError("invalid token: the natsgate claim is malformed");
    const { publish, subscribe, admin } = claim.data;
    return { name: payload.sub!, permissions: new Permissions(publish, subscribe, admin, this.#internal), expiresAt: payload.exp! * 1000 };
  }
}

function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim ${err.claim} ${err.reason}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "algorithm not allowed";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "bad signature";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "no matching key";
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return "malformed";
  return "not verifiable";
}
