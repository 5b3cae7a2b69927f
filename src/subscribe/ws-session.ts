/**
 * One WebSocket client: JSON frames in both directions (DESIGN.md, WebSocket).
 * Publishing, requests and subscriptions go through the same code as HTTP and
 * SSE (event preparation, permissions, feeds); a bad frame answers an `err`
 * frame and the socket stays open. Keepalive pings, a silence timeout, token
 * expiry and a bound on unsent bytes close it; a bound on unanswered frames
 * pauses reading it.
 */
import { who } from "../security/audit.js";
import type { WebSocket } from "ws";
import type { CoreGateway } from "../gateway.js";
import type { Principal } from "../security/auth.js";
import { startSpec } from "./start.js";
import { BadRequestError, GatewayError, internalProblem, MalformedJsonError } from "../errors.js";
import { eventFromItem } from "../events/event.js";
import type { Frame } from "./feed.js";
import { httpHeaderRecord } from "../nats/headers.js";
import { publishStatus, requestTimeout, type PublishResult } from "../publish/publisher.js";
import { chargeRequest, claimSlot, limitKey } from "../security/rate-limit.js";
import { payloadValue } from "../events/envelope.js";
import { parseJsonText } from "../http/body.js";
import { assertMaySubscribe, filtered } from "./subscription.js";
import type { RequestIds } from "../telemetry/http.js";
import type { SessionStats } from "./connections.js";
import { traceFields } from "../telemetry/tracing.js";
import { msgFrameBytes, TurnCork, type Corkable } from "./ws-output.js";

/** WebSocket close codes the gateway uses. */
export const WS_CLOSE = { goingAway: 1001, policy: 1008, tooBig: 1009, tryAgainLater: 1013 } as const;

type Incoming = Record<string, unknown>;
/** A frame's reply once it is ready: the text to send, or nothing. */
type Reply = Promise<string | undefined>;

/** Serves one socket. */
export class WsSession implements SessionStats {
  readonly #subs = new Map<string, () => void>();
  #lastSeen: number;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;
  // Frames start in order (a sub is in place before a later pub is handed over) and their
  // replies leave in order; a pub's reply waits for NATS but the next frame does not, so
  // publishes are confirmed in a pipeline. Requests run beside the queue: a reply may take a while.
  #queue: Promise<void> = Promise.resolve();
  #replies: Promise<void> = Promise.resolve();
  // Frames read but not yet answered, and their size. At ws.maxInflightFrames or
  // ws.maxInflightBytes the socket stops being read,
  // so a client that sends faster than NATS takes its frames waits in TCP, not in our heap.
  #inflight = 0;
  #inflightBytes = 0;
  // For the sessions API: subscribed subjects by sid, and what became of `msg` frames.
  readonly #subjects = new Map<string, string>();
  #sent = 0;
  #dropped = 0;
  readonly #registered: { remove: () => void };
  readonly #cork: TurnCork | undefined;

  constructor(
    private readonly gw: CoreGateway,
    private readonly ws: WebSocket,
    private readonly principal: Principal,
    private readonly remote: string | undefined,
    /** The upgrade request's ids: every audit record and log line of the socket carries them. */
    private readonly ids: RequestIds,
    private readonly onClose: () => void,
    /** The upgraded TCP socket, corked per turn so a turn's frames leave in one write. */
    socket?: Corkable,
  ) {
    this.#cork = socket && new TurnCork(socket);
    this.#registered = gw.connections.add({ client: principal.name, clientKind: principal.kind, remote, transport: "ws", connectedAt: gw.clock.now(), stats: this });
    const { pingIntervalMs, idleTimeoutMs } = gw.config.ws;
    this.#lastSeen = gw.clock.now();
    ws.on("pong", () => (this.#lastSeen = gw.clock.now()));
    ws.on("close", () => this.#cleanup());
    this.#timers.push(
      setInterval(() => {
        if (gw.clock.now() - this.#lastSeen > idleTimeoutMs) return this.close(WS_CLOSE.goingAway, "idle timeout");
        // ws throws from ping() once the socket is closing (the peer may have started it).
        if (ws.readyState === ws.OPEN) ws.ping();
      }, pingIntervalMs),
    );
    if (principal.expiresAt !== undefined) {
      const ms = Math.min(Math.max(0, principal.expiresAt - gw.clock.now()), 2 ** 31 - 1);
      this.#timers.push(setTimeout(() => this.close(WS_CLOSE.policy, "token expired"), ms));
    }
  }

  /** Subjects subscribed to now (the sessions API). */
  subjects(): string[] {
    return [...this.#subjects.values()];
  }

  /** `msg` frames handed to the socket. */
  get sent(): number {
    return this.#sent;
  }

  /** `msg` frames not sent: the socket closed, or the client too far behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes the socket holds unsent. */
  buffered(): number {
    return this.ws.bufferedAmount;
  }

  /** Ends the session for an operator; the client resubscribes from its cursor. */
  end(): void {
    this.close(WS_CLOSE.goingAway, "closed by an operator");
  }

  /** Closes the socket (idempotent); a client that stopped reading is cut off. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.ws.close(code, reason);
    // A peer that does not read will not complete the closing handshake either.
    const kill = setTimeout(() => this.ws.terminate(), 2_000);
    kill.unref();
    this.#cleanup();
  }

  #tooFarBehind(): void {
    if (!this.#closed) this.gw.metrics.slowConsumer("ws");
    this.close(WS_CLOSE.tryAgainLater, "too far behind");
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    for (const leave of this.#subs.values()) leave();
    this.#subs.clear();
    this.#subjects.clear();
    this.#registered.remove();
    this.onClose();
  }

  /** Sends a frame; false when it could not be (closed, or the client too far behind). */
  #send(frame: string | Buffer): boolean {
    if (this.#closed) return false;
    if (this.ws.bufferedAmount > this.gw.config.ws.maxBufferedBytes) {
      this.gw.logger.warn("WebSocket client too far behind; closing", { ...who(this.principal), ...this.ids });
      this.#tooFarBehind();
      return false;
    }
    if (this.ws.readyState !== this.ws.OPEN) return false;
    this.#cork?.hold();
    this.ws.send(frame, { binary: false });
    return true;
  }

  #deliver(sid: string, frame: Frame): void {
    // Counted before #send's too-far-behind close hands the session's totals over.
    const tooFar = !this.#closed && this.ws.bufferedAmount > this.gw.config.ws.maxBufferedBytes;
    if (tooFar) this.#dropped++;
    if (this.#send(msgFrameBytes(sid, frame))) this.#sent++;
    else if (!tooFar) this.#dropped++;
  }

  #error(err: unknown, ref: { id?: unknown; sid?: unknown }): void {
    const problem = err instanceof GatewayError ? err.toProblem() : internalProblem();
    if (!(err instanceof GatewayError)) this.gw.limitedLog.error(`ws ${err instanceof Error ? err.name : typeof err}`, "websocket frame failed", { err: String(err), ...this.ids });
    this.#send(JSON.stringify({ op: "err", ...ref, status: problem.status, title: problem.title, detail: problem.detail, ...(problem.errors ? { errors: problem.errors } : {}) }));
  }

  /** Handles one incoming frame (text, or null for a binary frame). */
  handle(text: string | null): void {
    this.#lastSeen = this.gw.clock.now();
    // UTF-16 length stands in for bytes: close enough for a memory bound, and free.
    const size = text?.length ?? 0;
    this.#begin(size);
    let frame: Incoming;
    try {
      if (text === null) throw new BadRequestError("frames are JSON text, not binary");
      // The frame object wraps a pub's data: one level more.
      const parsed: unknown = parseJsonText(text, this.gw.config.server.maxJsonDepth, 1);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new BadRequestError("a frame is a JSON object with an op");
      frame = parsed as Incoming;
    } catch (err) {
      const problem = err instanceof GatewayError ? err : new MalformedJsonError(err);
      this.#queue = this.#queue.then(() => this.#reply(Promise.reject(problem), {}, size));
      return;
    }
    const ref = { ...(frame.id !== undefined ? { id: frame.id } : {}), ...(frame.sid !== undefined ? { sid: frame.sid } : {}) };
    if (frame.op === "req") {
      void this.#req(frame)
        .then((reply) => this.#send(reply), (err) => this.#error(err, ref))
        .finally(() => this.#end(size));
      return;
    }
    this.#queue = this.#queue.then(async () => {
      let reply: Reply;
      try {
        reply = (await this.#start(frame)).reply;
      } catch (err) {
        reply = Promise.reject(err);
      }
      this.#reply(reply, ref, size);
    });
  }

  /** Sends a frame's reply after the replies of every earlier frame. */
  #reply(reply: Reply, ref: { id?: unknown; sid?: unknown }, size: number): void {
    // Settled into a sender at once, so a rejection waiting its turn is never unhandled.
    const emit = reply.then(
      (text) => () => text !== undefined && this.#send(text),
      (err) => () => this.#error(err, ref),
    );
    this.#replies = this.#replies
      .then(() => emit)
      .then((send) => void send())
      .finally(() => this.#end(size));
  }

  /** Frames unanswered on this socket (read but not yet handled to the end). */
  get inflight(): number {
    return this.#inflight;
  }

  #begin(size: number): void {
    this.#inflightBytes += size;
    const { maxInflightFrames, maxInflightBytes } = this.gw.config.ws;
    if ((++this.#inflight >= maxInflightFrames || this.#inflightBytes >= maxInflightBytes) && !this.ws.isPaused) this.ws.pause();
  }

  #end(size: number): void {
    this.#inflightBytes -= size;
    const { maxInflightFrames, maxInflightBytes } = this.gw.config.ws;
    // Resume at half the bound, so a busy socket is not paused and resumed on every frame.
    const low = --this.#inflight <= maxInflightFrames / 2 && this.#inflightBytes <= maxInflightBytes / 2;
    if (low && this.ws.isPaused && !this.#closed) this.ws.resume();
  }

  /**
   * Starts a frame: resolves once later frames may start (a sub is in place, a
   * pub handed to the publisher in order), with its reply still to come.
   */
  async #start(frame: Incoming): Promise<{ reply: Reply }> {
    switch (frame.op) {
      case "ping":
        // The gateway's time: a client resuming a subscription by time reads its clock from it.
        return { reply: Promise.resolve(`{"op":"pong","time":"${new Date(this.gw.clock.now()).toISOString()}"}`) };
      case "pub":
        return { reply: this.#pub(frame) };
      case "sub":
        await this.#sub(frame);
        return { reply: Promise.resolve(undefined) };
      case "unsub":
        this.#unsub(frame);
        return { reply: Promise.resolve(undefined) };
      default:
        throw new BadRequestError(`unknown op ${JSON.stringify(frame.op)}; expected sub, unsub, pub, req or ping`);
    }
  }

  /** Charges the client's rate limit; a refusal is audited like the HTTP middleware's 429. */
  #charge(): void {
    try {
      chargeRequest(this.gw.limiter, limitKey(this.principal, this.remote));
    } catch (err) {
      this.gw.audit.record({ action: "auth", outcome: "limited", status: 429, ...who(this.principal), remote: this.remote, ...this.ids });
      throw err;
    }
  }

  #pub(frame: Incoming): Reply {
    this.#charge();
    const subject = typeof frame.subject === "string" ? frame.subject : undefined;
    let audit = { action: "publish" as const, ...who(this.principal), remote: this.remote, subject, ...this.ids };
    const failed = (err: unknown): never => {
      const status = err instanceof GatewayError ? err.status : 500;
      this.gw.audit.record({ ...audit, outcome: status === 403 ? "denied" : "failed", status });
      throw err;
    };
    let published: Promise<PublishResult>;
    try {
      const event = eventFromItem(this.gw.rules, this.principal, frame, this.gw.bodyLimit());
      // The frame's own trace context, when it has one, is the trace its records belong to.
      audit = { ...audit, ...traceFields(event.headers) };
      published = this.gw.publisher.publish(event);
    } catch (err) {
      return failed(err);
    }
    return published.then((result) => {
      const status = publishStatus(result);
      this.gw.audit.record({ ...audit, outcome: "ok", status, stream: result.stream, seq: result.seq });
      return JSON.stringify({ op: "ack", ...(frame.id !== undefined ? { id: frame.id } : {}), status, ...result });
    }, failed);
  }

  async #req(frame: Incoming): Promise<string> {
    this.#charge();
    if (frame.id === undefined) throw new BadRequestError("req needs an id to match its reply");
    const timeout = requestTimeout(frame.timeout);
    const reply = await this.gw.publisher.request(eventFromItem(this.gw.rules, this.principal, frame, this.gw.bodyLimit()), timeout);
    const headers = httpHeaderRecord(reply.headers);
    return JSON.stringify({ op: "reply", id: frame.id, data: payloadValue(reply.data), ...(headers ? { headers } : {}) });
  }

  async #sub(frame: Incoming): Promise<void> {
    const { sid, subject, queue, lastEventId, since, deliver } = frame;
    if ((typeof sid !== "string" && typeof sid !== "number") || String(sid).length === 0 || String(sid).length > 64) {
      throw new BadRequestError("sub needs a sid (string or number, up to 64 characters)");
    }
    const key = String(sid);
    if (this.#subs.has(key)) throw new BadRequestError(`sid ${key} is already in use`);
    if (this.#subs.size >= this.gw.config.ws.maxSubscriptions) {
      throw new BadRequestError(`at most ${this.gw.config.ws.maxSubscriptions} subscriptions per socket`);
    }
    if (typeof subject !== "string") throw new BadRequestError("sub needs a subject");
    if (queue !== undefined && typeof queue !== "string") throw new BadRequestError("queue must be a string");
    if (lastEventId !== undefined && typeof lastEventId !== "string") throw new BadRequestError("lastEventId must be a string");
    if (since !== undefined && typeof since !== "string") throw new BadRequestError("since must be an RFC 3339 time string");
    if (deliver !== undefined && typeof deliver !== "string") throw new BadRequestError("deliver must be all, last or new");
    const start = startSpec(lastEventId || undefined, deliver, since);
    const req = { principal: this.principal, remote: this.remote, subjects: [subject], queue, start, ids: this.ids };
    assertMaySubscribe(this.gw, req);
    const releaseSlot = claimSlot(this.gw.subscriptionSlots, limitKey(this.principal, this.remote));
    // A placeholder while joining: an unsub or close meanwhile removes it, and the join is undone below.
    this.#subs.set(key, () => {});
    let left: () => void;
    try {
      const held = { max: this.gw.config.sse.maxBufferedMessages, onOverflow: () => this.#tooFarBehind() };
      left = await this.gw.sse.join(req.subjects, start, queue, filtered(this.principal, req.subjects, (f) => this.#deliver(key, f)), held);
    } catch (err) {
      this.#subs.delete(key);
      releaseSlot();
      throw err;
    }
    const leave = () => (left(), releaseSlot());
    if (this.#closed || !this.#subs.has(key)) return leave();
    this.#subs.set(key, leave);
    this.#subjects.set(key, subject);
    this.gw.audit.record({ action: "subscribe", outcome: "ok", status: 200, ...who(this.principal), remote: this.remote, subject, ...this.ids });
  }

  #unsub(frame: Incoming): void {
    const key = String(frame.sid);
    const leave = this.#subs.get(key);
    if (!leave) throw new BadRequestError(`no subscription with sid ${key}`);
    this.#subs.delete(key);
    this.#subjects.delete(key);
    leave();
  }
}
