/**
 * Opening a subscription for a client, whatever the transport: permission
 * checks (containment), the per-client stream cap, the audit record, joining
 * the shared feed — then a session that pumps frames to the client's output.
 */
import { who } from "../security/audit.js";
import type { CoreGateway } from "../gateway.js";
import type { Principal } from "../security/auth.js";
import { BadRequestError, ForbiddenError, subjectRefused } from "../errors.js";
import type { Frame, FrameSink } from "./feed.js";
import type { StartSpec } from "./feed-plan.js";
import { claimSlot, limitKey } from "../security/rate-limit.js";
import type { SseOutput } from "./sse-output.js";
import { SseSession } from "./sse-session.js";
import type { RequestIds } from "../telemetry/http.js";
import { assertQueueName, assertSubscribePattern, isReservedSubject } from "../nats/subjects.js";

/** What a client asked for. */
export interface SubscriptionRequest {
  principal: Principal;
  remote: string | undefined;
  subjects: string[];
  queue: string | undefined;
  start: StartSpec;
  /** The request (SSE) or upgrade (WebSocket) it came in on, for audit records and log lines. */
  ids?: RequestIds;
}

/**
 * Throws unless `principal` may subscribe to every pattern: syntax (400), then
 * containment in its allows and not wholly inside its denies (403).
 */
export function assertMaySubscribe(gw: CoreGateway, req: SubscriptionRequest): void {
  const rules = req.principal.permissions.subscribe;
  if (req.queue !== undefined) {
    assertQueueName(req.queue);
    // Queue groups are core NATS: live only, nothing to resume from.
    if (req.start.kind !== "new") throw new BadRequestError("a queue subscription is live only: it takes no deliver, since or Last-Event-ID");
  }
  const deny = (subject: string, err: ForbiddenError) => {
    gw.audit.record({ action: "subscribe", outcome: "denied", status: 403, ...who(req.principal), remote: req.remote, subject, ...req.ids });
    throw err;
  };
  for (const s of req.subjects) {
    assertSubscribePattern(s);
    if (!rules.permitsPattern(s, req.queue)) {
      const refused = subjectRefused(req.principal.name, "subscribe to", s, isReservedSubject(s));
      deny(s, req.queue === undefined || isReservedSubject(s) ? refused : new ForbiddenError(`client ${req.principal.name} may not join queue group ${req.queue} on ${s} (grant "${s} ${req.queue}")`, s));
    }
  }
  // The server hands each message to one member of a queue group; one this client may not
  // receive would be dropped here and reach no member at all.
  if (req.queue !== undefined && rules.deliveryFilter(req.subjects, req.queue)) {
    const subject = req.subjects.join(",");
    deny(subject, new ForbiddenError(`queue group ${req.queue} needs subjects client ${req.principal.name} may receive in full; ${subject} also matches denied or reserved subjects`, subject));
  }
}

/**
 * Checks, claims a stream slot and joins the feed. Resolves with a function
 * that starts the session on an output; frames arriving before that are kept.
 */
export async function openSubscription(gw: CoreGateway, req: SubscriptionRequest): Promise<(out: SseOutput) => SseSession> {
  assertMaySubscribe(gw, req);
  const { principal } = req;
  const key = limitKey(principal, req.remote);
  const releaseStream = claimSlot(gw.streamSlots, key);
  let releaseSubscription: () => void;
  try {
    releaseSubscription = claimSlot(gw.subscriptionSlots, key);
  } catch (err) {
    releaseStream();
    throw err;
  }
  const release = () => (releaseStream(), releaseSubscription());

  let session: SseSession | undefined;
  let overflowed = false;
  const early: Frame[] = [];
  const sink = (frame: Frame) => (session ? session.push(frame) : early.push(frame));
  // Live frames held while a resuming client is replayed count against the same bound as its queue.
  const held = { max: gw.config.sse.maxBufferedMessages, onOverflow: () => ((overflowed = true), session?.end("overflow")) };
  let leave: () => void;
  try {
    leave = await gw.sse.join(req.subjects, req.start, req.queue, filtered(principal, req.subjects, sink), held);
  } catch (err) {
    release();
    throw err;
  }
  gw.audit.record({ action: "subscribe", outcome: "ok", status: 200, ...who(principal), remote: req.remote, subject: req.subjects.join(","), ...req.ids });

  return (out) => {
    // Registered first: a client already gone ends the session inside its constructor.
    let s!: SseSession;
    const registered = gw.connections.add({
      client: principal.name,
      clientKind: principal.kind,
      remote: req.remote,
      transport: "sse",
      connectedAt: gw.clock.now(),
      stats: { subjects: () => req.subjects, get sent() { return s?.sent ?? 0; }, get dropped() { return s?.dropped ?? 0; }, buffered: () => s?.buffered() ?? 0, end: () => s?.end("operator") },
    });
    s = new SseSession(out, {
      heartbeatMs: gw.config.sse.heartbeatMs,
      maxBuffered: gw.config.sse.maxBufferedMessages,
      expiresAt: principal.expiresAt,
      now: gw.clock.now,
      onEnd: (reason) => {
        leave();
        release();
        gw.sessions.delete(s);
        registered.remove();
        if (reason === "overflow") {
          gw.metrics.slowConsumer("sse");
          gw.logger.warn("SSE client overflowed; stream ended", { ...who(principal), subjects: req.subjects, ...req.ids });
        }
      },
    });
    session = s;
    gw.sessions.add(s);
    for (const frame of early.splice(0)) s.push(frame);
    if (overflowed) s.end("overflow");
    return s;
  };
}

/**
 * The sink a client's feed frames go through: frames on subjects the client may
 * not receive (a pattern that overlaps its denies or a reserved prefix) never
 * reach it, as nats-server filters a subscription that overlaps a deny.
 */
export function filtered(principal: Principal, subjects: readonly string[], sink: FrameSink): FrameSink {
  const permits = principal.permissions.subscribe.deliveryFilter(subjects);
  return permits ? (frame) => void (permits(frame.subject) && sink(frame)) : sink;
}
