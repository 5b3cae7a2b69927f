/**
 * One HTTP POST to a webhook destination over node:http(s): keep-alive agents
 * shared by every webhook, the SSRF guard in the DNS lookup, one deadline for
 * the whole exchange, redirects never followed, and only a capped excerpt of
 * the response kept.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { SsrfGuard } from "./ssrf.js";

/** Response bytes kept for the delivery log and dead letters: 1 KiB. */
export const RESPONSE_EXCERPT_BYTES = 1024;
/** Response bytes read (and dropped) to keep the connection reusable; past this it is closed: 64 KiB. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
/** Longest `Retry-After` honoured: 1 day, in ms. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/** What one attempt produced. */
export interface AttemptResult {
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Why no usable response arrived: `timeout`, `refused` (SSRF), `network`, `invalid` (a header Node will not send). */
  error?: "timeout" | "refused" | "network" | "invalid";
  /** Human-readable failure, no secrets. */
  message?: string;
  /** Start of the response body, as text. */
  excerpt?: string;
  /** `Retry-After` in ms, when the response had one. */
  retryAfterMs?: number;
  durationMs: number;
}

/** An outgoing request, fully built. */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
}

/** `Retry-After` (delta-seconds or HTTP-date) in ms from `nowMs`, capped; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    // All three HTTP-date forms start with a day name; Date.parse alone would take "-5" or "1.5".
    if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined;
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Sends webhook requests. */
export class HttpSender {
  readonly #guard: SsrfGuard;
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(guard: SsrfGuard) {
    this.#guard = guard;
    this.#http = new HttpAgent({ keepAlive: true });
    this.#https = new HttpsAgent({ keepAlive: true });
  }

  /** POSTs the request; never throws — every failure is an `AttemptResult`. */
  send(req: OutgoingRequest): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(req.url);
    const refused = this.#guard.checkUrl(url);
    if (refused) return Promise.resolve({ error: "refused", message: refused.message, durationMs: 0 });
    const secure = url.protocol === "https:";
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: Omit<AttemptResult, "durationMs">) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...r, durationMs: elapsed() });
      };
      let request: ReturnType<typeof httpRequest>;
      try {
        request = (secure ? httpsRequest : httpRequest)(url, {
          method: "POST",
          agent: secure ? this.#https : this.#http,
          headers: { ...req.headers, "content-length": String(req.body.byteLength) },
          lookup: this.#guard.lookup as never,
        });
      } catch (err) {
        // Node validates headers as the request is made: such a request can never be sent.
        return resolve({ error: "invalid", message: `request cannot be sent: ${err instanceof Error ? err.message : String(err)}`, durationMs: elapsed() });
      }
      const timer = setTimeout(() => {
        finish({ error: "timeout", message: `no complete response within ${req.timeoutMs} ms` });
        request.destroy();
      }, req.timeoutMs);
      request.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ERR_DESTINATION_REFUSED") finish({ error: "refused", message: err.message });
        else finish({ error: "network", message: `${err.code ?? err.name}: ${err.message}` });
      });
      request.on("response", (res) => readResponse(res, request.destroy.bind(request), finish));
      request.end(req.body);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

function readResponse(res: IncomingMessage, abort: () => void, finish: (r: Omit<AttemptResult, "durationMs">) => void): void {
  const status = res.statusCode ?? 0;
  const retryAfterMs = parseRetryAfter(res.headers["retry-after"], Date.now());
  const chunks: Buffer[] = [];
  let kept = 0;
  let seen = 0;
  const done = () => {
    const excerpt = Buffer.concat(chunks).toString("utf8");
    finish({ status, ...(excerpt ? { excerpt } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  };
  res.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (kept < RESPONSE_EXCERPT_BYTES) {
      const part = chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept);
      chunks.push(part);
      kept += part.length;
    }
    if (seen > DRAIN_LIMIT_BYTES) {
      // Not worth reading a huge body to reuse the socket; the status is what counts.
      done();
      abort();
    }
  });
  res.on("end", done);
  res.on("error", done);
}
