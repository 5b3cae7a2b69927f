/** `GET /v1/subscribe`: Server-Sent Events over NATS subjects, with resume. */
import { Hono, type MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";
import type { CoreGateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { BadRequestError, MethodNotAllowedError } from "../src/errors.js";
import { startSpec } from "../src/subscribe/start.js";
import { authenticate } from "../src/security/middleware.js";
import { honoOutput } from "../src/subscribe/sse-output.js";
import { openSubscription } from "../src/subscribe/subscription.js";
import { requestFields } from "../src/telemetry/http.js";

/** Most subjects in one subscription. */
export const MAX_SUBJECTS_PER_STREAM = 32;

/**
 * Hono serves HEAD with the GET handler and drops the body: the stream would
 * open and, with nobody reading it, never end, holding its feed and the
 * client's slots for good.
 */
const noHead: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method === "HEAD") throw new MethodNotAllowedError("GET /v1/subscribe is an event stream; HEAD would open one nobody reads", ["GET"]);
  await next();
};

/** Subscribe routes. */
export function subscribeRoutes(gw: CoreGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/v1/subscribe", noHead, authenticate(gw, { streams: true }), async (c) => {
    const subjects = c.req.queries("subject") ?? [];
    if (subjects.length === 0) throw new BadRequestError("at least one subject parameter is required");
    if (subjects.length > MAX_SUBJECTS_PER_STREAM) throw new BadRequestError(`at most ${MAX_SUBJECTS_PER_STREAM} subjects per subscription`);
    // An empty queue= means none; the name itself is checked with the permissions.
    const queue = c.req.query("queue") || undefined;
    const start = startSpec(c.req.header("last-event-id") || c.req.query("lastEventId") || undefined, c.req.query("deliver"), c.req.query("since"));

    // Every refusal (400/403/429/503) happens here, before the response becomes a stream.
    const begin = await openSubscription(gw, { principal: c.get("principal"), remote: c.get("remote"), subjects, queue, start, ids: requestFields(c) });
    c.header("X-Accel-Buffering", "no");
    const direct = gw.sseOutput(c);
    if (direct) {
      // The runtime writes the frames; this bodiless 200 becomes the head, with every middleware's headers.
      begin(direct);
      return c.body(null, 200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    }
    return streamSSE(c, async (stream) => {
      const session = begin(honoOutput(stream));
      c.req.raw.signal.addEventListener("abort", () => session.end("closed"), { once: true });
      await session.finished;
    });
  });
  return app;
}
