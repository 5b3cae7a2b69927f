/**
 * The WebSocket fan-out's output side. A message reaching N sockets is rendered and
 * UTF-8 encoded once per (frame, sid), not once per socket, and each socket's frames
 * of one turn leave in one write: without that, one write syscall per frame per
 * client is most of what fan-out to many sockets costs (bench/ws.ts).
 */
import type { Frame } from "./feed.js";

/** Renders a feed frame as a `msg` frame for one subscription id. */
export function msgFrame(sid: string, frame: Frame): string {
  const cursor = frame.cursor === undefined ? "" : `,"cursor":${JSON.stringify(frame.cursor)}`;
  // The envelope is a JSON object: splice the op and sid in front, the cursor at the end.
  return `{"op":"msg","sid":${JSON.stringify(sid)},${frame.env.slice(1, -1)}${cursor}}`;
}

// The hub hands one frame to every socket in a row, and most of them use the same sid:
// one entry catches that, and a miss costs what no cache would.
let lastFrame: Frame | undefined;
let lastSid = "";
let lastBytes: Buffer = Buffer.alloc(0);

/** `msgFrame` as UTF-8 bytes, shared by every socket given the same frame and sid (never mutated). */
export function msgFrameBytes(sid: string, frame: Frame): Buffer {
  if (frame !== lastFrame || sid !== lastSid) {
    // A Buffer, not a Uint8Array: ws sends a Buffer as it is, without a view per socket.
    lastBytes = Buffer.from(msgFrame(sid, frame), "utf8");
    lastFrame = frame;
    lastSid = sid;
  }
  return lastBytes;
}

/** What a socket offers for holding writes back: Node's net.Socket cork/uncork. */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed?: boolean;
}

/**
 * Holds a socket's writes until the current turn's synchronous work is done (nats.js
 * hands a whole read's messages to their callbacks in one go), then lets them out
 * in one write.
 */
export class TurnCork {
  #corked = false;
  readonly #release = () => {
    this.#corked = false;
    this.socket.uncork();
  };

  constructor(private readonly socket: Corkable) {}

  /** Corks the socket until the end of this turn, if it is not already. */
  hold(): void {
    if (this.#corked || this.socket.destroyed) return;
    this.#corked = true;
    this.socket.cork();
    queueMicrotask(this.#release);
  }
}
