/**
 * Server-Sent Events framing and the event envelope. Pure functions: the
 * envelope is built once per NATS message and the frame text is shared by
 * every client of a feed.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
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

/** The payload as JSON where it is JSON, else as text. */
export function payloadValue(data: Uint8Array): unknown {
  const text = decoder.decode(data);
  if (text.length === 0) return "";
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

/** An SSE event: optional `id:` and `event:` lines, then the data (one `data:` line per text line). */
export function sseFrame(data: string, opts: { id?: string; event?: string } = {}): string {
  let out = "";
  if (opts.event) out += `event: ${opts.event}\n`;
  if (opts.id !== undefined) out += `id: ${opts.id}\n`;
  // JSON has no raw newlines, but a free-form payload might; each line gets its own field.
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** The reconnection delay field, sent once at the start. */
export const sseRetry = (ms: number) => `retry: ${ms}\n\n`;

/** A comment line that keeps proxies from timing the stream out. */
export const SSE_HEARTBEAT = ":\n\n";
