/**
 * Reading request bodies under a byte limit. A declared Content-Length over the
 * limit is refused before a byte is read; a chunked body is counted as it
 * streams and abandoned as soon as it passes the limit.
 */
import { GatewayError, IncompleteBodyError, JsonTooDeepError, MalformedJsonError, PayloadTooLargeError } from "../errors.js";

/** Reads the whole body of `req`; `PayloadTooLargeError` past `limit`, `IncompleteBodyError` when it breaks off. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  try {
    return await readCapped(req, limit);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // The stream failed under us: the client closed the connection or the server's read timeout hit.
    throw new IncompleteBodyError(err);
  }
}

async function readCapped(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    const length = Number(declared);
    if (length > limit) throw new PayloadTooLargeError(limit);
    const buf = new Uint8Array(await req.arrayBuffer());
    if (buf.byteLength > limit) throw new PayloadTooLargeError(limit);
    return buf;
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8 strictly (invalid sequences throw a TypeError). */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Deepest JSON nesting accepted by default (`server.maxJsonDepth`), in levels of objects and arrays. */
export const DEFAULT_MAX_JSON_DEPTH = 64;
/**
 * Deepest nesting the gateway ever re-serialises: JSON.stringify overflows the
 * stack somewhere past 2,000 levels, so this is the bound for the setting and
 * for rendering payloads that other NATS clients published.
 */
export const MAX_JSON_DEPTH = 1_000;

/**
 * Walks JSON text (UTF-8 bytes or a string) without parsing it, calling `visit`
 * with each `{ [ } ] ,` outside strings and the nesting depth after it, until
 * `visit` returns true (then so does the walk). In UTF-8, multi-byte characters
 * never contain these ASCII bytes, so bytes and text walk alike.
 */
export function walkJson(text: Uint8Array | string, visit: (c: number, depth: number) => boolean): boolean {
  const at = typeof text === "string" ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (visit(c, ++depth)) return true;
    } else if (c === 0x7d || c === 0x5d) {
      if (visit(c, --depth)) return true;
    } else if (c === 0x2c && visit(c, depth)) return true;
  }
  return false;
}

/** True when JSON text nests objects and arrays deeper than `max` (brackets inside strings do not count). */
export function jsonDeeperThan(text: Uint8Array | string, max: number): boolean {
  // Text with at most `max` opening brackets cannot nest deeper: counting them is a native
  // search, where the walk below looks at every character (most events have a handful).
  if (openingBracketsAtMost(text, max)) return false;
  return walkJson(text, (_c, depth) => depth > max);
}

/** Below this many bytes a plain loop beats two native searches (and their closures). */
const SCAN_LOOP_BYTES = 4096;

function openingBracketsAtMost(text: Uint8Array | string, max: number): boolean {
  let n = 0;
  if (typeof text !== "string" && text.length <= SCAN_LOOP_BYTES) {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if ((c === 0x7b || c === 0x5b) && ++n > max) return false;
    }
    return true;
  }
  const [brace, bracket]: [string | number, string | number] = typeof text === "string" ? ["{", "["] : [0x7b, 0x5b];
  const find = (c: string | number, from: number) => (text as { indexOf(c: string | number, from: number): number }).indexOf(c, from);
  for (const c of [brace, bracket]) {
    for (let i = find(c, 0); i !== -1; i = find(c, i + 1)) if (++n > max) return false;
  }
  return true;
}

/**
 * Parses JSON text whose data nests no deeper than `maxDepth` inside `wrappers`
 * levels of envelope (a batch array and item, a frame, a CloudEvent); 400
 * `JsonTooDeepError` (naming `maxDepth`) or `MalformedJsonError` otherwise.
 */
export function parseJsonText(text: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH, wrappers = 0): unknown {
  if (jsonDeeperThan(text, maxDepth + wrappers)) throw new JsonTooDeepError(maxDepth);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MalformedJsonError(err);
  }
}

/** Parses a JSON body (strict UTF-8, data no deeper than `maxDepth` inside `wrappers` levels); 400 otherwise. */
export function parseJson(bytes: Uint8Array, maxDepth: number = DEFAULT_MAX_JSON_DEPTH, wrappers = 0): unknown {
  if (jsonDeeperThan(bytes, maxDepth + wrappers)) throw new JsonTooDeepError(maxDepth);
  try {
    return JSON.parse(decodeUtf8(bytes));
  } catch (err) {
    throw new MalformedJsonError(err);
  }
}

/** The media type of a Content-Type value: lowercased, parameters removed. */
export function mediaType(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined;
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** True for `application/json` and `application/*+json` (CloudEvents excluded). */
export function isJsonMediaType(type: string | undefined): boolean {
  if (!type) return false;
  if (type === "application/json") return true;
  return type.endsWith("+json") && !type.startsWith("application/cloudevents");
}
