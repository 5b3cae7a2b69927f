/** `GET /v1/subscribe`: Server-Sent Events over NATS subjects, with resume. */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Gateway } from "../src/app.js";
import type { AppEnv } from "../src/app-env.js";
import { parseCursor } from "../src/cursor.js";
import { BadRequestError, ForbiddenError, RateLimitedError } from "../src/errors.js";
import type { Frame, StartSpec } from "../src/feed.js";
import { authenticate } from "../src/middleware.js";
import { SseSession } from "../src/sse-session.js";
import { assertSubscribePattern, isReservedSubject } from "../src/subjects.js";

/** Most subjects in one subscription. */
export const MAX_SUBJECTS_PER_STREAM = 32;

/** Where a fresh or resumed subscription starts. */
export function startSpec(lastEventId: string | undefined, deliver: string | undefined, since: string | undefined): StartSpec {
  if (lastEventId) return { kind: "cursor", positions: parseCursor(lastEventId) };
  if (since !== undefined) {
    const time = new Date(since);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(since) || Number.isNaN(time.getTime())) {
      throw new BadRequestError(`since must be an RFC 3339 time such as 2026-11-24T20:00:00Z, got ${JSON.stringify(since)}`);
    }
    return { kind: "since", time };
  }
  if (deliver === undefined || deliver === "new") return { kind: "new" };
  if (deliver === "all" || deliver === "last") return { kind: deliver };
  throw new BadRequestError(`deliver must be all, last or new, got ${JSON.stringify(deliver)}`);
}

/** Subscribe routes. */
export function subscribeRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/v1/subscribe", authenticate(gw, { streams: true }), async (c) => {
    const principal = c.var.principal;
    const subjects = c.req.queries("subject") ?? [];
    if (subjects.length === 0) throw new BadRequestError("at least one subject parameter is required");
    if (subjects.length > MAX_SUBJECTS_PER_STREAM) throw new BadRequestError(`at most ${MAX_SUBJECTS_PER_STREAM} subjects per subscription`);
    for (const s of subjects) {
      assertSubscribePattern(s);
      if (!principal.permissions.subscribe.permitsPattern(s)) {
        gw.audit.record({ action: "subscribe", outcome: "denied", status: 403, client: principal.name, remote: c.var.remote, subject: s });
        throw new ForbiddenError(
          isReservedSubject(s) ? `subject ${s} is reserved for the NATS server` : `client ${principal.name} may not subscribe to ${s}`,
          s,
        );
      }
    }
    const queue = c.req.query("queue") || undefined;
    if (queue !== undefined && !/^[^\s*>]{1,128}$/.test(queue)) throw new BadRequestError("queue must be 1-128 characters without spaces or wildcards");
    const start = startSpec(c.req.header("last-event-id") || c.req.query("lastEventId") || undefined, c.req.query("deliver"), c.req.query("since"));

    const slotKey = principal.kind === "anonymous" ? `ip:${c.var.remote ?? "local"}` : principal.name;
    const release = gw.streamSlots ? gw.streamSlots.acquire(slotKey) : () => {};
    if (!release) throw new RateLimitedError(`at most ${gw.streamSlots!.max} concurrent streams per client`, gw.streamSlots!.max, 5);

    let session: SseSession | undefined;
    const early: Frame[] = [];
    let leave: () => void;
    try {
      // Frames that arrive before the stream exists are kept for it, in order.
      leave = await gw.sse.join(subjects, start, queue, (frame) => (session ? session.push(frame) : early.push(frame)));
    } catch (err) {
      release();
      throw err;
    }
    gw.audit.record({ action: "subscribe", outcome: "ok", status: 200, client: principal.name, remote: c.var.remote, subject: subjects.join(",") });
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      session = new SseSession(stream, {
        heartbeatMs: gw.config.sse.heartbeatMs,
        maxBuffered: gw.config.sse.maxBufferedMessages,
        expiresAt: principal.expiresAt,
        now: gw.clock.now,
        onEnd: (reason) => {
          leave();
          release();
          gw.sessions.delete(session!);
          if (reason === "overflow") gw.logger.warn("SSE client overflowed; stream ended", { client: principal.name, subjects });
        },
      });
      gw.sessions.add(session);
      for (const frame of early.splice(0)) session.push(frame);
      c.req.raw.signal.addEventListener("abort", () => session!.end("closed"), { once: true });
      await session.finished;
    });
  });
  return app;
}
