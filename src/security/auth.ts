/**
 * Who is calling: static client tokens (stored as sha256 digests, compared in
 * constant time), user names with passwords (HTTP Basic, stored as scrypt
 * hashes: `password-check.ts`) and JWTs. Produces the `Principal` every route
 * authorizes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../config/load.js";
import { UnauthorizedError } from "../errors.js";
import { JwtVerifier, looksLikeJwt } from "./jwt.js";
import type { Logger } from "../logger.js";
import { PasswordCheck } from "./password-check.js";
import type { PasswordAttempts } from "./password-attempts.js";
import { CONTROL_CHARACTERS, parsePasswordHash } from "./passwords.js";
import { GATEWAY_INTERNAL, Permissions } from "./permissions.js";

/** Longest bearer token accepted, in characters. */
export const MAX_TOKEN_LENGTH = 8192;

/** An authenticated caller. */
export interface Principal {
  /** Client name (config), JWT `sub`, or "anonymous". */
  name: string;
  kind: "anonymous" | "token" | "password" | "jwt" | "hook";
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
  /** Its token's digest; undefined for a client that signs in with a password only. */
  digest: Buffer | undefined;
  permissions: Permissions;
}

/** SHA-256 of a presented token: what stored digests are compared with, in constant time. */
export const sha256 = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** The digest a configured token stands for: `sha256:<hex>` as written, a plain token hashed. */
export function storedDigest(token: string): Buffer {
  return token.startsWith("sha256:") ? Buffer.from(token.slice(7), "hex") : sha256(token);
}

/** A user name and password from `Authorization: Basic`. */
export interface BasicCredentials {
  user: string;
  password: string;
}

/**
 * What a caller presented: a bearer token (a string), a user and password, or
 * nothing. A header that names a scheme but is malformed is "", which every
 * check refuses.
 */
export type Presented = string | BasicCredentials | undefined;

/** Longest `Authorization: Basic` value accepted, in characters (user, password and base64). */
const MAX_BASIC_LENGTH = 4096;
// ignoreBOM: a leading U+FEFF is part of the user name, not silently dropped.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The token of an `Authorization: Bearer` header; "" (refused) for any other scheme, undefined without one. */
export function bearerToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : "";
}

/**
 * The credentials of an `Authorization` header: Bearer or Basic (RFC 7617,
 * UTF-8, split at the first colon); "" for a malformed one or another scheme.
 */
export function credentialsOf(header: string | null): Presented {
  if (header === null || !/^Basic[ ]/i.test(header)) return bearerToken(header);
  const encoded = header.slice(6).trim();
  if (encoded.length > MAX_BASIC_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return "";
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(encoded, "base64"));
  } catch {
    return "";
  }
  const colon = decoded.indexOf(":");
  // Control characters are refused in both parts (RFC 7617 excludes them from the user-id and password).
  if (colon <= 0 || CONTROL_CHARACTERS.test(decoded)) return "";
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * What a browser says about where a request comes from (Fetch Metadata, Origin);
 * nulls for other clients. `Sec-Fetch-Site` marks a browser: Node's fetch sends
 * `Sec-Fetch-Mode` too, but not it.
 */
export interface BrowserContext {
  fetchSite: string | null;
  origin: string | null;
  host: string | null;
  /**
   * True for what is likely a browser: Fetch Metadata, or a `Mozilla/` user
   * agent (browsers without Fetch Metadata, such as Safari before 16.4). Such a
   * caller is never offered Basic: a browser would show its own login dialog.
   */
  browser: boolean;
}

/** The browser context of a request, from its headers. */
export function browserContext(get: (name: string) => string | null | undefined): BrowserContext {
  const fetchSite = get("sec-fetch-site") ?? null;
  return { fetchSite, origin: get("origin") ?? null, host: get("host") ?? null, browser: fetchSite !== null || (get("user-agent") ?? "").startsWith("Mozilla/") };
}

/** Default ports, which a Host header may name and an Origin never does. */
const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/** A host as compared: lowercase, no trailing dot, no default port. */
function comparableHost(host: string, protocol: string): string {
  const m = /^(.*?)(?::(\d+))?$/.exec(host.toLowerCase())!;
  const name = m[1]!.replace(/\.$/, "");
  return m[2] === undefined || m[2] === DEFAULT_PORTS[protocol] ? name : `${name}:${m[2]}`;
}

/**
 * True when a browser sent this request from another site's page. A browser
 * that once answered a Basic prompt attaches the password to every request to
 * the gateway, a plain HTML form on any site included (CSRF), so a password is
 * only taken from the gateway's own pages, the CORS origins, and non-browser
 * clients (which send neither header).
 */
export function crossSiteBrowser(b: BrowserContext, corsOrigins: readonly string[]): boolean {
  if (b.origin !== null && corsOrigins.includes(b.origin)) return false;
  if (b.fetchSite !== null) return b.fetchSite !== "same-origin" && b.fetchSite !== "none";
  // Browsers without Fetch Metadata: an Origin whose host is not the gateway's.
  if (b.origin === null || b.origin === "null") return b.origin === "null";
  try {
    const origin = new URL(b.origin);
    return b.host === null || comparableHost(origin.host, origin.protocol) !== comparableHost(b.host, origin.protocol);
  } catch {
    return true;
  }
}

/**
 * Where credentials may come from: the Authorization header (Bearer or Basic);
 * streams (SSE, WebSocket) also accept a bearer token in the query or a cookie,
 * but never a password there (URLs end up in logs and browser history).
 */
export function credentialsFrom(req: Request, allowQueryAndCookie: boolean): Presented {
  const header = req.headers.get("authorization");
  if (header !== null || !allowQueryAndCookie) return credentialsOf(header);
  return streamToken(req);
}

/** Where a bearer token may come from: streams (SSE, WebSocket) also accept query and cookie. */
export function tokenFrom(req: Request, allowQueryAndCookie: boolean): string | undefined {
  const header = req.headers.get("authorization");
  if (header !== null || !allowQueryAndCookie) return bearerToken(header);
  return streamToken(req);
}

/** A stream's token from `access_token` or the `natsgate_token` cookie, for a request without an Authorization header. */
function streamToken(req: Request): string | undefined {
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

/** Where a password check comes from and what guards its hash. */
export interface PasswordGuard {
  remote: string | undefined;
  attempts: PasswordAttempts;
}

/** Authenticates bearer tokens and passwords per the `auth` config. */
export class Authenticator {
  readonly required: boolean;
  readonly #clients: StaticClient[];
  readonly #passwords: PasswordCheck<StaticClient> | undefined;
  readonly #jwt: JwtVerifier | undefined;
  readonly #anonymous: Principal;

  constructor(auth: Config["auth"], logger: Logger, { now = Date.now, internal = GATEWAY_INTERNAL }: AuthenticatorOptions = {}) {
    this.required = auth.mode === "required";
    this.#anonymous = { ...ANONYMOUS, permissions: Permissions.unrestricted(internal) };
    const clients = auth.clients.map((c) => {
      if (c.token !== undefined && !c.token.startsWith("sha256:")) {
        logger.warn("client token stored in plain text; store sha256:<hex> instead", { client: c.name });
      }
      const client = { name: c.name, digest: c.token === undefined ? undefined : storedDigest(c.token), permissions: new Permissions(c.publish, c.subscribe, c.admin, internal) };
      return { client, user: c.user, password: c.password };
    });
    this.#clients = clients.map((c) => c.client);
    const withPasswords = clients.flatMap(({ client, user, password }) => {
      const hash = user !== undefined && password !== undefined ? parsePasswordHash(password) : undefined;
      return hash ? [{ user: user!, hash, client }] : [];
    });
    this.#passwords = withPasswords.length > 0 ? new PasswordCheck(withPasswords, { now }) : undefined;
    if (this.#passwords?.mixedParameters) {
      logger.warn("client password hashes use different scrypt parameters: a cheaper hash answers faster than an unknown user, which tells that user exists; hash them all alike");
    }
    this.#jwt = auth.jwt ? new JwtVerifier(auth.jwt, now, internal) : undefined;
  }

  /** True when some client signs in with a password: 401s then offer Basic too. */
  get acceptsPasswords(): boolean {
    return this.#passwords !== undefined;
  }

  /**
   * The principal for what the caller presented (a bearer token, or a user and
   * password), or `UnauthorizedError`. A password is checked for `guard.remote`
   * behind `guard.attempts` (429 without a hash once a budget is spent).
   */
  async authenticate(presented: Presented, guard: PasswordGuard): Promise<Principal> {
    if (!this.required) return this.#anonymous;
    try {
      return typeof presented === "object" ? await this.#password(presented, guard) : await this.#token(presented);
    } catch (err) {
      // Every 401 names both ways in when passwords are accepted (a JWT's own refusal included).
      if (err instanceof UnauthorizedError && this.acceptsPasswords && !err.basic) throw new UnauthorizedError(err.message, true, { cause: err.cause });
      throw err;
    }
  }

  async #password({ user, password }: BasicCredentials, { remote, attempts }: PasswordGuard): Promise<Principal> {
    if (!this.#passwords) throw new UnauthorizedError("no client signs in with a password here; send a bearer token");
    const found = await this.#passwords.verify(user, password, remote, { begin: () => attempts.begin(remote, user), remembered: () => attempts.remembered(remote, user) });
    if (!found) throw new UnauthorizedError("unknown user or wrong password", true);
    return { name: found.name, kind: "password", permissions: found.permissions };
  }

  async #token(token: string | undefined): Promise<Principal> {
    if (token === undefined) throw new UnauthorizedError(this.acceptsPasswords ? "credentials are required (a bearer token, or a user and password)" : "a bearer token is required");
    if (token === "" || token.length > MAX_TOKEN_LENGTH) throw new UnauthorizedError("malformed credentials");
    if (this.#jwt && looksLikeJwt(token)) {
      const v = await this.#jwt.verify(token);
      return { name: v.name, kind: "jwt", permissions: v.permissions, expiresAt: v.expiresAt };
    }
    const digest = sha256(token);
    let found: StaticClient | undefined;
    // Compare against every client so the time taken does not depend on which (if any) matched.
    for (const client of this.#clients) {
      if (client.digest !== undefined && timingSafeEqual(client.digest, digest) && !found) found = client;
    }
    if (!found) throw new UnauthorizedError("unknown token");
    return { name: found.name, kind: "token", permissions: found.permissions };
  }
}
