/** The bus's known events and the registry built from them plus config files. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../src/errors.js";
import type { Config } from "../src/config/load.js";
import { nodeAdded, nodeScaled, podCrashloop } from "./cluster.js";
import { deployRequest, deploymentStatus } from "./deploy.js";
import { imageUploaded } from "./image.js";
import { SchemaRegistry, type SchemaEntry } from "../src/events/registry.js";
import { transferCompleted, transferError } from "./transfer.js";

export { SchemaRegistry, type SchemaEntry } from "../src/events/registry.js";

/** Schemas shipped with natsgate, keyed by subject pattern. */
export const builtinSchemas: Record<string, z.ZodType> = {
  "transfer.completed": transferCompleted,
  "transfer.error": transferError,
  "image.uploaded": imageUploaded,
  "deployment.status": deploymentStatus,
  "deploy.request": deployRequest,
  "cluster.*.nodeAdded": nodeAdded,
  "node.scaled": nodeScaled,
  "pod.crashloop": podCrashloop,
};

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
  return { subject, schema, description: description ?? title, source: file };
}

/** The registry: built-in schemas, then `schemas.files` (which may override them). */
export function createRegistry(config: Config): SchemaRegistry {
  const registry = new SchemaRegistry();
  for (const [subject, schema] of Object.entries(builtinSchemas)) {
    registry.register({ subject, schema, description: schema.description, source: "builtin" });
  }
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
