/**
 * What the gateway reads of a request's headers. A Web `Headers` is one; Node's
 * publish fast path reads the raw header list through the same shape
 * (`node/raw-headers.ts`), so event preparation and tracing see both alike.
 */

/** Request headers as a Web `Headers` shows them: case-insensitive lookups, repeats joined, pairs in name order. */
export interface HeaderSource extends Iterable<[string, string]> {
  get(name: string): string | null;
  has(name: string): boolean;
}
