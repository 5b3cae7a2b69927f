/**
 * JetStream publish acknowledgements collected by the gateway: one wildcard reply
 * subscription per connection, a token per publish, one coarse timer for every
 * deadline. nats.js's own `js.publish` makes a request per message whose resolver
 * builds a `RequestError("cancelled")` (stack trace and all) on every success:
 * 14 % of the gateway's CPU under JetStream load. The answers mean the same and
 * fail the same way: errors are nats.js's own classes, mapped in `errors.ts`.
 */
import { createInbox, errors as natsErrors, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { JetStreamApiError, type PubAck } from "@nats-io/jetstream";
import { GATEWAY_INBOX_PREFIX } from "./subjects.js";

/** How often pending acknowledgements are checked against their deadline, in ms. */
const SWEEP_INTERVAL_MS = 100;

interface Pending {
  resolve: (ack: PubAck) => void;
  reject: (err: Error) => void;
  /** Clock time (ms) after which the publish fails with a timeout. */
  deadline: number;
}

/** Sends JetStream publishes on one connection and matches their acknowledgements. */
export class JetStreamAcks {
  readonly #prefix: string;
  readonly #sub: Subscription;
  // Insertion order is deadline order (one timeout for all), so a sweep stops at the first live one.
  readonly #pending = new Map<string, Pending>();
  #next = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #decoder = new TextDecoder();

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#prefix = `${createInbox(GATEWAY_INBOX_PREFIX)}.`;
    this.#sub = nc.subscribe(`${this.#prefix}*`, { callback: (err, msg) => void (err ? this.#fail(err) : this.#answer(msg)) });
    void this.#sub.closed.then(() => this.#fail(new natsErrors.ClosedConnectionError()));
  }

  /** Publishes `data` on `subject` and resolves with the stream's acknowledgement. */
  publish(subject: string, data: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    if (this.#closed) return Promise.reject(new natsErrors.ClosedConnectionError());
    const token = (this.#next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      // nats.js throws synchronously for what it refuses (size, subject): nothing is pending then.
      this.nc.publish(subject, data, { headers, reply: this.#prefix + token });
      this.#pending.set(token, { resolve, reject, deadline: this.now() + this.timeoutMs });
      this.#timer ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    });
  }

  /** Publishes awaiting an acknowledgement. */
  get size(): number {
    return this.#pending.size;
  }

  #answer(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const p = this.#pending.get(token);
    if (!p) return; // answered after its deadline
    this.#pending.delete(token);
    this.#idle();
    // A status message (503) is the server saying nothing took the message: no stream leader.
    if (msg.headers?.hasError) return p.reject(new natsErrors.NoRespondersError(msg.subject));
    let ack: PubAck & { error?: ConstructorParameters<typeof JetStreamApiError>[0] };
    try {
      ack = JSON.parse(this.#decoder.decode(msg.data)) as typeof ack;
    } catch (err) {
      return p.reject(new Error("invalid ack response", { cause: err }));
    }
    if (ack.error) return p.reject(new JetStreamApiError(ack.error));
    if (typeof ack.stream !== "string" || ack.stream === "") return p.reject(new Error("invalid ack response"));
    p.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true, domain: ack.domain });
  }

  #sweep(): void {
    const now = this.now();
    for (const [token, p] of this.#pending) {
      if (p.deadline > now) break;
      this.#pending.delete(token);
      p.reject(new natsErrors.TimeoutError());
    }
    this.#idle();
  }

  #idle(): void {
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #fail(err: Error): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#idle();
  }
}
