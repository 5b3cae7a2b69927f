/**
 * Who is calling: static client tokens (stored as sha256 digests, compared in
 * constant time) and JWTs. Produces the `Principal` every route authorizes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../config/load.js";
import { UnauthorizedError } from "../errors.js";
import { JwtVerifier, looksLikeJwt } from "./jwt.js";
import type { Logger } from "../logger.js";
import { GATEWAY_INTERNAL, Permissions } from "./permissions.js";

/** Longest bearer token accepted, in characters. */
export const MAX_TOKEN_LENGTH = 8192;

/** An authenticated caller. */
export interface Principal {
  /** Client name (config), JWT `sub`, or "anonymous". */
  name: string;
  kind: "anonymous" | "token" | "jwt" | "hook";
  permissions: Permissions;
  /** When the credentials expire (ms since the epoch); streams close then. */
  expiresAt?: number;
}

/** The principal for `auth.mode: none`. */
export const ANONYMOUS: Principal = { name: "anonymous", kind: "anonymous", permissions: Permissions.unrestricted() };

/** Options for `Authenticator` beyond the `auth` config. */
export interface AuthenticatorOptions {
  now?: () => number;
  /** Subject patterns no client may use, whatever its allows (the gateway's own). */
  internal?: readonly string[];
}

interface StaticClient {
  name: string;
  digest: Buffer;
  permissions: Permissions;
}

/** SHA-256 of a presented token: what stored digests are compared with, in constant time. */
export const sha256 = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** The digest a configured token stands for: `sha256:<hex>` as written, a plain token hashed. */
export function storedDigest(token: string): Buffer {
  return token.startsWith("sha256:") ? Buffer.from(token.slice(7), "hex") : sha256(token);
}

/** The token of an `Authorization: Bearer` header; "" (refused) for any other scheme, undefined without one. */
export function bearerToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : "";
}

/** Where the token may come from: streams (SSE, WebSocket) also accept query and cookie. */
export function tokenFrom(req: Request, allowQueryAndCookie: boolean): string | undefined {
  const header = req.headers.get("authorization");
  if (header !== null || !allowQueryAndCookie) return bearerToken(header);
  const query = new URL(req.url).searchParams.get("access_token");
  if (query !== null) return query;
  const cookie = req.headers.get("cookie");
  if (cookie) {
    for (const part of cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === "natsgate_token") {
        try {
          return decodeURIComponent(v.join("="));
        } catch {
          throw new UnauthorizedError("malformed bearer token");
        }
      }
    }
  }
  return undefined;
}

/** Authenticates bearer tokens per the `auth` config. */
export class Authenticator {
  readonly required: boolean;
  readonly #clients: StaticClient[];
  readonly #jwt: JwtVerifier | undefined;
  readonly #anonymous: Principal;

  constructor(auth: Config["auth"], logger: Logger, { now = Date.now, internal = GATEWAY_INTERNAL }: AuthenticatorOptions = {}) {
    this.required = auth.mode === "required";
    this.#anonymous = { ...ANONYMOUS, permissions: Permissions.unrestricted(internal) };
    this.#clients = auth.clients.map((c) => {
      if (!c.token.startsWith("sha256:")) {
        logger.warn("client token stored in plain text; store sha256:<hex> instead", { client: c.name });
      }
      return { name: c.name, digest: storedDigest(c.token), permissions: new Permissions(c.publish, c.subscribe, c.admin, internal) };
    });
    this.#jwt = auth.jwt ? new JwtVerifier(auth.jwt, now, internal) : undefined;
  }

  /** The principal for `token`, or `UnauthorizedError`. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!this.required) return this.#anonymous;
    if (token === undefined) throw new UnauthorizedError("a bearer token is required");
    if (token === "" || token.length > MAX_TOKEN_LENGTH) throw new UnauthorizedError("malformed bearer token");
    if (this.#jwt && looksLikeJwt(token)) {
      const v = await this.#jwt.verify(token);
      return { name: v.name, kind: "jwt", permissions: v.permissions, expiresAt: v.expiresAt };
    }
    const digest = sha256(token);
    let found: StaticClient | undefined;
    // Compare against every client so the time taken does not depend on which (if any) matched.
    for (const client of this.#clients) {
      if (timingSafeEqual(client.digest, digest) && !found) found = client;
    }
    if (!found) throw new UnauthorizedError("unknown token");
    return { name: found.name, kind: "token", permissions: found.permissions };
  }
}
