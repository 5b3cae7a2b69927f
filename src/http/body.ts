/**
 * Reading request bodies under a byte limit. A declared Content-Length over the
 * limit is refused before a byte is read; a chunked body is counted as it
 * streams and abandoned as soon as it passes the limit.
 */
import { MalformedJsonError, PayloadTooLargeError } from "../errors.js";

/** Reads the whole body of `req`, or throws `PayloadTooLargeError`. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
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

/** Parses a JSON body (strict UTF-8); 400 `MalformedJsonError` otherwise. */
export function parseJson(bytes: Uint8Array): unknown {
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
