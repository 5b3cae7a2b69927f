/**
 * Catching a resuming client up, then handing it to the shared live feed.
 *
 * The client is attached to the live feed first (its frames are held back),
 * and the position the live feed had reached is noted. A private replay from
 * the client's start then runs until, in every stream, it has delivered
 * everything up to that position: a frame at or past it, a frame with nothing
 * pending behind it, or a consumer with nothing left. Then the replay stops,
 * the held live frames go out, and the client continues on the shared feed.
 * Every stream frame passes a per-stream sequence check, so the overlap between
 * replay and live is delivered once, in order.
 */
import type { Positions } from "./cursor.js";
import type { Frame, FrameSink } from "./feed.js";

/** The per-client state of one catch-up. */
export class CatchUp {
  readonly #held: Frame[] = [];
  readonly #last = new Map<string, number>();
  readonly #waiting: Set<string>;
  #switched = false;
  #overflowed = false;
  /** Called once when the client is handed to the live feed. */
  onSwitch: () => void = () => {};
  /** Called once when more than `maxHeld` live frames wait for the replay: the client must resume later. */
  onOverflow: () => void = () => {};

  constructor(
    private readonly sink: FrameSink,
    private readonly livePosition: Positions,
    streams: Iterable<string>,
    start: Positions | undefined,
    private readonly maxHeld = Infinity,
  ) {
    this.#waiting = new Set(streams);
    for (const s of this.#waiting) this.#last.set(s, start?.get(s) ?? 0);
  }

  /** True once the client reads from the live feed only. */
  get switched(): boolean {
    return this.#switched;
  }

  /** Last sequence delivered to the client in `stream`. */
  last(stream: string): number {
    return this.#last.get(stream) ?? 0;
  }

  /** Sink for the shared live feed. */
  readonly live: FrameSink = (f) => {
    if (this.#switched) return this.#deliver(f);
    if (this.#overflowed) return;
    if (this.#held.length >= this.maxHeld) {
      // Memory stays bounded: the client is ended and resumes from its cursor.
      this.#overflowed = true;
      this.#held.length = 0;
      return this.onOverflow();
    }
    this.#held.push(f);
  };

  /** Sink for the private replay. */
  readonly replay: FrameSink = (f) => {
    if (this.#switched || f.stream === undefined) return;
    this.#deliver(f);
    if (f.seq! >= (this.livePosition.get(f.stream) ?? 0) || f.pending === 0) this.caughtUp(f.stream);
  };

  /** A replayed stream message that matched none of the client's patterns: progress all the same. */
  readonly skipped = (stream: string, seq: number, pending: number | undefined): void => {
    if (this.#switched || !this.#waiting.has(stream)) return;
    if (seq >= (this.livePosition.get(stream) ?? 0) || pending === 0) this.caughtUp(stream);
  };

  /** Marks a stream as replayed up to the live position; switches when all are. */
  caughtUp(stream: string): void {
    this.#waiting.delete(stream);
    if (this.#waiting.size > 0 || this.#switched) return;
    this.#switched = true;
    this.onSwitch();
    for (const f of this.#held.splice(0)) this.#deliver(f);
  }

  #deliver(f: Frame): void {
    if (f.stream !== undefined) {
      if (f.seq! <= (this.#last.get(f.stream) ?? 0)) return;
      this.#last.set(f.stream, f.seq!);
    }
    this.sink(f);
  }
}
