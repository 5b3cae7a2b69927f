/**
 * Reads a few messages of a stream by subject filter, oldest first, with the
 * server's message-get API (`next_by_subj`): no consumer is created, so an
 * admin listing leaves nothing behind on the server.
 */
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/** Messages matching `filter` at or after `fromSeq`, at most `limit`. */
export async function readMessages(jsm: JetStreamManager, stream: string, filter: string, fromSeq: number, limit: number): Promise<StoredMsg[]> {
  const out: StoredMsg[] = [];
  let seq = Math.max(1, fromSeq);
  while (out.length < limit) {
    // next_by_subj is in the server's MSG.GET API since 2.9; nats.js types it for direct get only.
    const m = await jsm.streams.getMessage(stream, { seq, next_by_subj: filter } as never);
    if (!m) break;
    out.push(m);
    seq = m.seq + 1;
  }
  return out;
}
