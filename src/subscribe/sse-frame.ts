/**
 * Server-Sent Events framing. Pure functions: the frame text is built once per
 * message and shared by every client of a feed.
 */

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
