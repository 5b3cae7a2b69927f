/**
 * A Node request's headers read straight from its raw list, the way
 * @hono/node-server's Web `Headers` shows them: names in any case, HTTP
 * whitespace trimmed, repeats joined with ", " (Cookie with "; "), pairs in
 * name order. The publish fast path reads through it, so a message published
 * there carries exactly the NATS headers the Hono path would give it. Node's own
 * `req.headers` would not do: it keeps only the first of a repeated
 * Content-Type or Authorization.
 */
import type { HeaderSource } from "../http/header-source.js";

const isHttpWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function trimmed(value: string): string {
  if (value === "" || (!isHttpWhitespace(value.charCodeAt(0)) && !isHttpWhitespace(value.charCodeAt(value.length - 1)))) return value;
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** Headers over Node's `rawHeaders` (pseudo-headers of HTTP/2 left out). */
export class RawHeaders implements HeaderSource {
  readonly #values = new Map<string, string>();

  constructor(raw: readonly string[]) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name.charCodeAt(0) === 0x3a) continue;
      const value = trimmed(raw[i + 1]!);
      const before = this.#values.get(name);
      this.#values.set(name, before === undefined ? value : before + (name === "cookie" ? "; " : ", ") + value);
    }
  }

  get(name: string): string | null {
    return this.#values.get(name) ?? this.#values.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    // In name order, as a Web Headers iterates: the NATS headers mapped from them keep that order.
    return [...this.#values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))[Symbol.iterator]();
  }
}
