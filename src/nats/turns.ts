/**
 * Sends grouped by event-loop turn. Messages of one turn are handed to nats.js
 * together, after the turn's I/O, so they leave in one socket write (nats.js
 * flushes once per microtask queue) instead of one write each — measured: core
 * publish 17.9k -> 32.1k req/s on 2 cores — and one ping after them confirms
 * them all.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsUnavailableError, UnconfirmedError } from "../errors.js";

/** The current turn's shared promises. */
export class Turns {
  #turn: Promise<void> | undefined;
  #confirm: Promise<void> | undefined;

  /** `connection` throws (503) while there is none; `ackTimeoutMs` bounds a confirmation. */
  constructor(
    private readonly connection: () => NatsConnection,
    private readonly ackTimeoutMs: () => number,
  ) {}

  /** Resolves after this event-loop turn's I/O; whatever is sent then shares one socket write. */
  next(): Promise<void> {
    return (this.#turn ??= new Promise((resolve) =>
      setImmediate(() => {
        this.#turn = undefined;
        resolve();
      }),
    ));
  }

  /**
   * Resolves once the server has answered a ping sent after every message handed
   * over before this call and in the same synchronous run as it. One ping serves
   * every publish of the turn: they run in the microtasks `next()` released, and
   * the ping follows them. Asked for just before a publish, the ping is queued
   * ahead of nats.js's own flush and so leaves in the same socket write as the
   * turn's messages (one write and no extra loop iteration per turn). 503 when the
   * connection drops first, 504 after the ack timeout; either way the message may
   * or may not have been delivered.
   */
  confirmed(): Promise<void> {
    return (this.#confirm ??= new Promise<void>((resolve, reject) =>
      queueMicrotask(() => {
        this.#confirm = undefined;
        let nc: NatsConnection;
        try {
          nc = this.connection();
        } catch (err) {
          return reject(err);
        }
        const ms = this.ackTimeoutMs();
        const timer = setTimeout(() => reject(new UnconfirmedError(`NATS did not confirm the message within ${ms} ms; it may or may not have been delivered`)), ms);
        nc.flush().then(
          () => (clearTimeout(timer), resolve()),
          (err) => (clearTimeout(timer), reject(new NatsUnavailableError("NATS connection lost before it confirmed the message; it may or may not have been delivered", { cause: err }))),
        );
      }),
    ));
  }
}
