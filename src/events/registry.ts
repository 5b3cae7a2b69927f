/**
 * The schema registry: subject patterns (NATS wildcards allowed) mapped to zod
 * schemas. Lookups pick the most specific pattern and are cached per subject,
 * since every publish performs one.
 */
import { z } from "zod";
import type { ProblemIssue } from "../errors.js";
import { assertSubscribePattern, subjectMatches } from "../nats/subjects.js";

/** One registered schema. */
export interface SchemaEntry {
  /** Subject pattern, e.g. `transfer.completed` or `cluster.*.nodeAdded`. */
  subject: string;
  schema: z.ZodType;
  description?: string;
  /** `builtin` for the bus's known events, else the JSON Schema file it came from. */
  source: string;
  /** The JSON Schema document as written, for schemas loaded from one (served as is). */
  document?: object;
}

/** Cached lookups before the cache is cleared (bounds memory under random subjects). */
const MAX_CACHED_SUBJECTS = 10_000;

/** Orders wildcard patterns from most to least specific. */
function specificity(pattern: string): number[] {
  const tokens = pattern.split(".");
  const full = tokens[tokens.length - 1] === ">" ? 1 : 0;
  const stars = tokens.filter((t) => t === "*").length;
  return [full, -(tokens.length - stars), stars];
}

function compareSpecificity(a: string, b: string): number {
  const x = specificity(a);
  const y = specificity(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return a < b ? -1 : 1;
}

/** JSON Pointer for a zod issue path. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** Subject-pattern-to-schema registry. */
export class SchemaRegistry {
  #exact = new Map<string, SchemaEntry>();
  #wildcard: SchemaEntry[] = [];
  #cache = new Map<string, SchemaEntry | null>();
  #json = new Map<string, object>();

  /** Registers a schema; a second registration of the same pattern replaces the first. */
  register(entry: SchemaEntry): this {
    assertSubscribePattern(entry.subject);
    if (entry.subject.includes("*") || entry.subject.includes(">")) {
      this.#wildcard = this.#wildcard.filter((e) => e.subject !== entry.subject);
      this.#wildcard.push(entry);
      this.#wildcard.sort((a, b) => compareSpecificity(a.subject, b.subject));
    } else {
      this.#exact.set(entry.subject, entry);
    }
    this.#cache.clear();
    this.#json.delete(entry.subject);
    return this;
  }

  /** The schema governing a literal subject, if any. */
  lookup(subject: string): SchemaEntry | undefined {
    const exact = this.#exact.get(subject);
    if (exact) return exact;
    const hit = this.#cache.get(subject);
    if (hit !== undefined) return hit ?? undefined;
    const found = this.#wildcard.find((e) => subjectMatches(e.subject, subject)) ?? null;
    if (this.#cache.size >= MAX_CACHED_SUBJECTS) this.#cache.clear();
    this.#cache.set(subject, found);
    return found ?? undefined;
  }

  /** The entry registered under exactly this pattern. */
  get(pattern: string): SchemaEntry | undefined {
    return this.#exact.get(pattern) ?? this.#wildcard.find((e) => e.subject === pattern);
  }

  /** Every entry, sorted by subject pattern. */
  list(): SchemaEntry[] {
    return [...this.#exact.values(), ...this.#wildcard].sort((a, b) => (a.subject < b.subject ? -1 : 1));
  }

  /**
   * The JSON Schema of an entry: the document as written for file schemas (a
   * round trip through zod would drop keywords such as `format`), else draft
   * 2020-12 generated from the zod schema, once.
   */
  jsonSchema(entry: SchemaEntry): object {
    if (entry.document) return entry.document;
    let doc = this.#json.get(entry.subject);
    if (!doc) {
      doc = z.toJSONSchema(entry.schema, { io: "input", unrepresentable: "any" }) as object;
      this.#json.set(entry.subject, doc);
    }
    return doc;
  }

  /** Validation issues of `value` against `entry`, empty when it conforms. */
  static issues(entry: SchemaEntry, value: unknown): ProblemIssue[] {
    const result = entry.schema.safeParse(value);
    if (result.success) return [];
    return result.error.issues.map((i) => ({ path: jsonPointer(i.path), message: i.message }));
  }
}

/** A registry holding the built-in schemas (subject pattern -> zod schema); files are the runtime's to add. */
export function builtinRegistry(builtins: Record<string, z.ZodType>): SchemaRegistry {
  const registry = new SchemaRegistry();
  for (const [subject, schema] of Object.entries(builtins)) {
    registry.register({ subject, schema, description: schema.description, source: "builtin" });
  }
  return registry;
}
