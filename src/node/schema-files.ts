/**
 * The schema registry a gateway starts with: the built-in event schemas, then
 * the JSON Schema files of `schemas.files` (which may override them).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../config/errors.js";
import type { Config } from "../config/load.js";
import { builtinRegistry, type SchemaEntry, type SchemaRegistry } from "../events/registry.js";

/** Loads one JSON Schema file as a registry entry. */
export function loadJsonSchemaFile(subject: string, file: string, key: string, description?: string): SchemaEntry {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(key, `cannot load JSON Schema ${file}: ${(err as Error).message}`, { cause: err });
  }
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(doc as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    throw new ConfigError(key, `${file} is not a usable JSON Schema: ${(err as Error).message}`, { cause: err });
  }
  const title = (doc as { description?: string; title?: string }).description ?? (doc as { title?: string }).title;
  return { subject, schema, description: description ?? title, source: file, document: doc as object };
}

/** The registry: `builtins` (subject pattern -> zod schema), then `schemas.files`. */
export function createRegistry(config: Config, builtins: Record<string, z.ZodType>): SchemaRegistry {
  const registry = builtinRegistry(builtins);
  config.schemas.files.forEach((f, i) => {
    const key = `schemas.files[${i}]`;
    let entry: SchemaEntry;
    try {
      entry = loadJsonSchemaFile(f.subject, f.jsonSchema, `${key}.jsonSchema`, f.description);
    } catch (err) {
      throw err instanceof ConfigError ? err : new ConfigError(`${key}.subject`, (err as Error).message);
    }
    try {
      registry.register(entry);
    } catch (err) {
      throw new ConfigError(`${key}.subject`, (err as Error).message, { cause: err });
    }
  });
  return registry;
}
