/**
 * Where a subscription starts, as SSE (`Last-Event-ID`, `?deliver`, `?since`)
 * and the WebSocket's `sub` frame (`lastEventId`, `deliver`, `since`) both say
 * it: a cursor wins, then a time, then `deliver` (new messages by default).
 */
import { BadRequestError } from "../errors.js";
import { parseRfc3339 } from "../http/time.js";
import { parseCursor } from "./cursor.js";
import type { StartSpec } from "./feed-plan.js";

/** Where a fresh or resumed subscription starts. */
export function startSpec(lastEventId: string | undefined, deliver: string | undefined, since: string | undefined): StartSpec {
  if (lastEventId) return { kind: "cursor", positions: parseCursor(lastEventId) };
  if (since !== undefined) {
    const time = parseRfc3339(since);
    if (!time) {
      throw new BadRequestError(`since must be an RFC 3339 time such as 2026-11-24T20:00:00Z, got ${JSON.stringify(since)}`);
    }
    return { kind: "since", time };
  }
  if (deliver === undefined || deliver === "new") return { kind: "new" };
  if (deliver === "all" || deliver === "last") return { kind: deliver };
  throw new BadRequestError(`deliver must be all, last or new, got ${JSON.stringify(deliver)}`);
}
