/**
 * The configuration from plain data: the environment overrides `PORT`, `HOST`,
 * `NATS_URL`, `NATS_TOKEN`, `LOG_LEVEL` and `LOG_FORMAT` applied, then validated once. Failures are `ConfigError`s
 * naming the key. Reading files is the runtime's part (`node/config-file.ts`).
 */
import type { z } from "zod";
import { ConfigError } from "./errors.js";
import { configSchema, type Config } from "./schema.js";
import { LOG_FORMATS, LOG_LEVELS } from "../logger.js";

export { configSchema, type Config, type ConfigInput, type StreamSettings } from "./schema.js";

/** Environment variables the configuration reads. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** Where the configuration came from, for logs and for `nats.embedded: auto`. */
export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, if any. */
  file?: string;
  /** True when NATS_URL or the file named NATS servers explicitly. */
  natsExplicit: boolean;
  /** True when NATS_URL set the servers (embedded mode never applies then). */
  natsFromEnv: boolean;
  /** True when the file is the shipped default (no --config, no NATSGATE_CONFIG). */
  isDefault?: boolean;
}

/** Validates config data; throws a `ConfigError` for the first issue. */
export function parseConfig(data: unknown, source = "config"): Config {
  const result = configSchema.safeParse(data);
  if (result.success) return result.data;
  throw toConfigError(result.error, source);
}

function toConfigError(error: z.ZodError, source: string): ConfigError {
  const issue = error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    message = `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
    const key = path ? `${path}.${issue.keys[0]}` : issue.keys[0]!;
    return new ConfigError(key, `${message} (in ${source})`);
  }
  return new ConfigError(path || "(root)", `${message} (in ${source})`);
}

/**
 * Applies the environment to config data (a mapping read from a file or a
 * binding) and validates it; `source` names where the data came from in errors.
 */
export function configFromData(raw: unknown, env: ConfigEnv, source: string): Omit<LoadedConfig, "file"> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("(root)", `expected a mapping of settings (in ${source})`);
  }
  const data = structuredClone(raw) as Record<string, any>;
  const natsExplicit = Boolean(env.NATS_URL) || Boolean(data.nats?.servers);
  applyEnv(data, env);
  return { config: parseConfig(data, source), natsExplicit, natsFromEnv: Boolean(env.NATS_URL) };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/**
 * With no configuration at all, nothing says who may publish: fine on loopback,
 * not on an address others reach. A container started with only NATS_URL (the
 * image sets HOST=0.0.0.0 and ships no config file) must not come up open.
 */
export function assertNotOpenByDefault(config: Config): void {
  if (LOOPBACK.has(config.server.host)) return;
  throw new ConfigError("auth.mode", `is not set (no config file) while serving on ${config.server.host}: every caller could publish; give a config file with auth.mode: required (clients or jwt), or auth.mode: none to run open on purpose`);
}

function applyEnv(data: Record<string, any>, env: ConfigEnv): void {
  const server = (data.server ??= {});
  const nats = (data.nats ??= {});
  if (env.PORT !== undefined && env.PORT !== "") {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError("PORT", `expected a port number (0-65535), got ${JSON.stringify(env.PORT)}`);
    }
    server.port = port;
  }
  if (env.HOST) server.host = env.HOST;
  for (const [name, key, allowed] of [["LOG_LEVEL", "level", LOG_LEVELS], ["LOG_FORMAT", "format", LOG_FORMATS]] as const) {
    // Case is not a reason to refuse to start: LOG_LEVEL=INFO is what many deployments say.
    const value = env[name]?.toLowerCase();
    if (value === undefined || value === "") continue;
    if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(env[name])}`);
    (data.log ??= {})[key] = value;
  }
  // A credential belongs in a secret store (a Kubernetes Secret, a Workers secret), not the config file.
  if (env.NATS_TOKEN) nats.token = env.NATS_TOKEN;
  if (env.NATS_URL) {
    nats.servers = env.NATS_URL.split(",").map((s) => s.trim()).filter(Boolean);
    if (nats.servers.length === 0) throw new ConfigError("NATS_URL", "names no server");
  }
}
