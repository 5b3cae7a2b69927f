/**
 * SSE frames written straight to Node's ServerResponse. Through Hono's
 * streaming helper every client costs two web streams and a promise chain per
 * write (about half the CPU of a broadcast in a profile); here a frame is one
 * `res.write`. The response head still comes from Hono: the route answers with
 * a bodiless 200 whose headers every middleware has had its say on (CORS,
 * rate limit, request id), and `takeOverResponse` in the listener writes that
 * head, flushes what the session queued meanwhile, and tells @hono/node-server
 * the response is already sent.
 */
import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import type { SseOutput } from "../subscribe/sse-output.js";

/** Marks a ServerResponse whose body an SSE session writes itself. */
const DIRECT = Symbol("natsgate.sseDirect");

type Marked = ServerResponse & { [DIRECT]?: DirectSseOutput };

/** An SseOutput on a Node response; writes wait for the head, then go to the socket. */
class DirectSseOutput implements SseOutput {
  #head = false;
  #early: string[] = [];
  #gone = false;
  #goneHandlers: (() => void)[] = [];

  constructor(private readonly res: ServerResponse) {
    // Node may have closed the connection while the route ran (e.g. a request it refused to
    // keep reading): its "close" has been and gone, so the session must see the client gone now.
    if (res.destroyed) this.#gone = true;
    else res.once("close", () => this.#leave());
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** Writes the head Hono settled on, then whatever was written before it. */
  open(status: number, headers: Headers): void {
    if (this.#gone) return;
    const head: Record<string, string | string[]> = {};
    headers.forEach((value, name) => {
      if (name !== "content-length") head[name] = value;
    });
    const cookies = headers.getSetCookie();
    if (cookies.length > 0) head["set-cookie"] = cookies;
    this.res.writeHead(status, head);
    this.res.flushHeaders();
    this.#head = true;
    if (this.#early.length > 0) this.res.write(this.#early.join(""));
    this.#early = [];
  }

  write(chunk: string): Promise<void> {
    if (this.#gone) return Promise.resolve();
    if (!this.#head) {
      this.#early.push(chunk);
      return Promise.resolve();
    }
    if (this.res.write(chunk)) return Promise.resolve();
    // Full socket buffer: wait until it drains or the client is gone.
    return new Promise((resolve) => {
      const done = () => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.on("drain", done);
      this.res.on("close", done);
    });
  }

  onGone(fn: () => void): void {
    if (this.#gone) fn();
    else this.#goneHandlers.push(fn);
  }

  end(): void {
    if (!this.#head) return this.abort();
    this.res.end();
  }

  abort(): void {
    this.res.destroy();
  }

  /** The session ends without touching the response (the app answers with something else). */
  release(): void {
    this.#leave();
  }

  #leave(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#early = [];
    for (const fn of this.#goneHandlers.splice(0)) fn();
  }
}

/**
 * The direct output for a request served by @hono/node-server, or undefined
 * elsewhere (in-process `app.request`, Workers): those stream through Hono.
 */
export function nodeSseOutput(c: Context): SseOutput | undefined {
  const res = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!res || typeof res.writeHead !== "function" || res.headersSent) return undefined;
  const out = new DirectSseOutput(res);
  (res as Marked)[DIRECT] = out;
  return out;
}

/** A bodiless response @hono/node-server leaves alone (its cached-response path would write a head). */
function alreadySent(): Response {
  const r = new Response(null, { headers: { "x-hono-already-sent": "1" } });
  // Reading the body drops node-server's lightweight cache, so it takes the path that honours the marker.
  void r.body;
  return r;
}

/**
 * Wraps an app's fetch for @hono/node-server: when an SSE session took the
 * response over, the app's answer becomes its head and node-server writes
 * nothing itself. Any answer other than the route's 200 (an error turned into
 * problem+json by a later middleware) is sent as usual and the session ends.
 */
export function takeOverResponse<E>(fetch: (req: Request, env: E) => Response | Promise<Response>): (req: Request, env: E) => Response | Promise<Response> {
  const settle = (res: Response, env: E): Response => {
    const outgoing = (env as { outgoing?: Marked } | undefined)?.outgoing;
    const out = outgoing?.[DIRECT];
    if (!out) return res;
    delete outgoing[DIRECT];
    if (res.status !== 200) {
      out.release();
      return res;
    }
    out.open(res.status, res.headers);
    return alreadySent();
  };
  // No async wrapper: one .then on the requests that are promises, nothing more on the publish path.
  return (req, env) => {
    const res = fetch(req, env);
    return res instanceof Promise ? res.then((r) => settle(r, env)) : settle(res, env);
  };
}
