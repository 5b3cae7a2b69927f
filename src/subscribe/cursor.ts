/**
 * Resume cursors: the position in every stream a subscription reads, e.g.
 * `EVENTS:42` or `EVENTS:42,AUDIT:7`. The cursor is the whole state needed to
 * resume, so any replica can continue a client where another left off.
 */
import { BadRequestError } from "../errors.js";

/** Stream name to last delivered sequence. */
export type Positions = Map<string, number>;

const PAIR = /^([^\s:,.*>]+):(\d{1,16})$/;

/** Serializes positions (sorted by stream, so equal positions give equal cursors). */
export function formatCursor(positions: Positions): string {
  return [...positions]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([stream, seq]) => `${stream}:${seq}`)
    .join(",");
}

/** Parses a cursor; 400 naming `what` (the header or field it came in) when it is not one. */
export function parseCursor(cursor: string, what = "Last-Event-ID"): Positions {
  const positions: Positions = new Map();
  for (const part of cursor.split(",")) {
    const m = PAIR.exec(part.trim());
    if (!m) throw new BadRequestError(`${what} ${JSON.stringify(cursor)} is not a natsgate cursor (STREAM:SEQ[,STREAM:SEQ])`);
    positions.set(m[1]!, Number(m[2]));
  }
  return positions;
}
