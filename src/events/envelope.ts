/**
 * The event envelope: one NATS message as it leaves the gateway (SSE data,
 * WebSocket `msg` frames, webhook bodies). Built once per message and shared
 * by every client that receives it.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import { jsonDeeperThan, MAX_JSON_DEPTH } from "../http/body.js";
import { httpHeaderRecord } from "../nats/headers.js";

/** One message as it leaves the gateway. */
export interface Envelope {
  subject: string;
  data: unknown;
  headers?: Record<string, string>;
  stream?: string;
  seq?: number;
  time: string;
}

const decoder = new TextDecoder();

/**
 * The payload as JSON where it is JSON, else as text. JSON nested deeper than
 * the gateway ever re-serialises (another NATS client may publish anything) is
 * passed on as its text too: rendering it would overflow the stack and stop the
 * feed, the consumer or the connection delivering it.
 */
export function payloadValue(data: Uint8Array): unknown {
  const text = decoder.decode(data);
  if (text.length === 0) return "";
  if (jsonDeeperThan(data, MAX_JSON_DEPTH)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Builds the envelope of DESIGN.md (`headers` mapped back to HTTP names). */
export function envelope(
  subject: string,
  data: Uint8Array,
  headers: MsgHdrs | undefined,
  timeMs: number,
  stream?: string,
  seq?: number,
): Envelope {
  // Key order as documented: subject, data, headers, stream, seq, time.
  const e = { subject, data: payloadValue(data) } as Envelope;
  const h = httpHeaderRecord(headers);
  if (h) e.headers = h;
  if (stream !== undefined) {
    e.stream = stream;
    e.seq = seq;
  }
  e.time = new Date(timeMs).toISOString();
  return e;
}
