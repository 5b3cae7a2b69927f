/**
 * The publish fast path: `POST /v1/publish/{subject}` served from Node's
 * request event, before @hono/node-server turns it into a Web Request and
 * back (a fifth of a publish's CPU, which nothing inside Hono can remove).
 *
 * It is the same code path, entered earlier: the same telemetry, token and
 * rate-limit checks (`authenticateCaller`), event preparation
 * (`eventFromHttp`), publisher, audit record (`auditOutcome`) and
 * problem+json (`failureResponse`) as the Hono route, with headers read from
 * the raw list as Hono would see them. `test/integration/fast-publish.test.ts`
 * sends the same requests both ways and compares what comes back and what NATS
 * received. Anything out of the ordinary goes to Hono: another method or path,
 * a query or percent-escape, a body without Content-Length, CORS.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CoreGateway } from "../gateway.js";
import type { AuditNote } from "../http/env.js";
import type { Config } from "../config/load.js";
import { failureResponse } from "../http/problem.js";
import { securityHeaderPairs } from "../http/security-headers.js";
import { forwardedClient, trustedHops } from "../http/remote.js";
import { eventFromHttp } from "../events/event.js";
import { publishStatus } from "../publish/publisher.js";
import { browserContext, credentialsOf, type Principal } from "../security/auth.js";
import { auditOutcome, authenticateCaller, rateLimitHeaders } from "../security/middleware.js";
import { beginRequest, endRequest, requestIds } from "../telemetry/http.js";
import { GatewayError, IncompleteBodyError, PayloadTooLargeError } from "../errors.js";
import { RawHeaders } from "./raw-headers.js";

const PREFIX = "/v1/publish/";
/** The route template the Hono route has: the same metric label and span name. */
const ROUTE = "/v1/publish/:subject";
/**
 * A subject @hono/node-server, the router and the strict decoding all take as
 * it is: the characters node-server passes through without a URL parse, less
 * `/ ? # %` (`\` is refused there, `"` `<` `{` … are percent-encoded).
 */
const PLAIN_SUBJECT = /^[!$&-.0-;=@-\[\]_a-z~]+$/;
/** A Host node-server takes as it is (others go through a URL parse, or are refused). */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/** A request listener that serves a plain publish and returns true, or returns false and leaves the request alone. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The fast path for `gw`; undefined when its config sends every publish through Hono (CORS). */
export function fastPublish(gw: CoreGateway, server: Config["server"]): FastPath | undefined {
  if ((server.cors?.origins ?? []).length > 0) return undefined;
  const https = server.tls !== undefined;
  const hops = trustedHops(server.trustProxy);
  // The headers every response starts with, flat as writeHead takes them.
  const security = securityHeaderPairs(server).flat();
  return function fastPublish(req, res) {
    const url = req.url;
    if (req.method !== "POST" || url === undefined || !url.startsWith(PREFIX)) return false;
    const subject = url.slice(PREFIX.length);
    // A dot segment is resolved away by the URL parse: `/v1/publish/..` is not a publish.
    if (!PLAIN_SUBJECT.test(subject) || subject === "." || subject === "..") return false;
    const headers = new RawHeaders(req.rawHeaders);
    const declared = headers.get("content-length");
    const host = headers.get("host");
    if (declared === null || host === null || !PLAIN_HOST.test(host)) return false;
    const remote = forwardedClient(headers.get("x-forwarded-for") ?? undefined, req.socket.remoteAddress, hops);
    publish(gw, req, res, { subject, headers, declared: Number(declared), remote, https, security }).catch((err: unknown) => {
      // Nothing above throws past its own catch; were it to, the client must not wait forever.
      gw.limitedLog.error("fast publish failed", "request failed", { path: url, err: String(err) });
      res.destroy();
    });
    return true;
  };
}

interface Publish {
  subject: string;
  headers: RawHeaders;
  declared: number;
  remote: string | undefined;
  https: boolean;
  security: string[];
}

async function publish(gw: CoreGateway, req: IncomingMessage, res: ServerResponse, p: Publish): Promise<void> {
  const t = beginRequest(gw.tracing, "POST", req.url!, p.https, p.headers);
  const ids = requestIds(t.requestId, t.trace);
  let principal: Principal | undefined;
  let note: AuditNote | undefined;
  let limits: [string, string][] = [];
  let status: number;
  try {
    const caller = await authenticateCaller(gw, credentialsOf(p.headers.get("authorization")), p.remote, ids, browserContext((n) => p.headers.get(n)));
    principal = caller.principal;
    limits = rateLimitHeaders(gw, caller.remaining);
    note = { subject: p.subject, msgId: p.headers.get("idempotency-key") ?? undefined };
    const body = await readBody(req, p.declared, gw.bodyLimit());
    const result = await gw.publisher.publish(eventFromHttp(gw.rules, principal, p.subject, p.headers, body), t.trace);
    note = { ...note, stream: result.stream, seq: result.seq };
    status = publishStatus(result);
    reply(res, status, JSON.stringify(result), p.security, limits, JSON_TYPE, t.requestId);
  } catch (err) {
    const failed = failureResponse(gw.limitedLog, err, { method: "POST", path: req.url!, route: ROUTE, ...ids });
    status = failed.status;
    reply(res, status, await failed.text(), p.security, limits, failed.headers, t.requestId);
  }
  // A refused token was audited where it was refused; the route audits only the callers it served.
  if (principal) auditOutcome(gw, "publish", status, principal, p.remote, ids, note);
  endRequest(gw.metrics, t, "POST", ROUTE, status);
}

const JSON_TYPE: [string, string][] = [["content-type", "application/json"]];

/**
 * Writes the reply as @hono/node-server writes a Hono response over the
 * security headers: theirs first, then the rate limit's, then the response's,
 * then a length. Each name is sent once: a later source replaces an earlier
 * one, as setHeader and the header object merge did.
 */
function reply(res: ServerResponse, status: number, body: string, security: string[], limits: [string, string][], headers: Iterable<[string, string]>, requestId: string): void {
  const own: string[] = [];
  const taken = new Set<string>();
  for (const [name, value] of headers) own.push(name, value), taken.add(name.toLowerCase());
  const out: string[] = [];
  for (let i = 0; i < security.length; i += 2) if (!taken.has(security[i]!.toLowerCase())) out.push(security[i]!, security[i + 1]!);
  for (const [name, value] of limits) if (!taken.has(name)) out.push(name, value);
  out.push(...own, "x-request-id", requestId, "content-length", String(Buffer.byteLength(body)));
  res.writeHead(status, out);
  res.end(body);
}

/** The body, held to `limit` as `http/body.ts` holds a Web request's: a declared length past it is refused unread. */
function readBody(req: IncomingMessage, declared: number, limit: number): Promise<Uint8Array> {
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: unknown) => {
      req.removeAllListeners("data");
      reject(err instanceof GatewayError ? err : new IncompleteBodyError(err));
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) return fail(new PayloadTooLargeError(limit));
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once("error", fail);
    // Node ends the request's stream without an error when the client goes away mid-body.
    req.once("close", () => {
      if (!req.complete) fail(new Error("the client closed the connection"));
    });
  });
}
