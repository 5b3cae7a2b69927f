/**
 * Loading the configuration: a YAML or JSON file (`--config FILE` or
 * `NATSGATE_CONFIG`), then the environment overrides `PORT`, `HOST` and
 * `NATS_URL`, validated once. Failures are `ConfigError`s naming the key.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./errors.js";
import { configSchema, type Config } from "./schema.js";

export { configSchema, type Config, type ConfigInput, type StreamSettings } from "./schema.js";

/** Where the configuration came from, for logs and for `nats.embedded: auto`. */
export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, if any. */
  file?: string;
  /** True when NATS_URL or the file named NATS servers explicitly. */
  natsExplicit: boolean;
  /** True when NATS_URL set the servers (embedded mode never applies then). */
  natsFromEnv: boolean;
}

/** The `--config` argument, or `NATSGATE_CONFIG`. */
export function configPath(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--config" || arg === "-c") {
      const next = argv[i + 1];
      if (!next) throw new ConfigError("--config", "expects a file path");
      return next;
    }
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
  }
  return env.NATSGATE_CONFIG || undefined;
}

/** Reads and parses a config file into plain data (not yet validated). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError("", `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const data = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    return data ?? {};
  } catch (err) {
    // YAML errors carry a multi-line code frame; the first line says what and where.
    const why = (err as Error).message.split("\n")[0];
    throw new ConfigError("", `config file ${file} is not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${why}`, { cause: err });
  }
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

function applyEnv(data: Record<string, any>, env: NodeJS.ProcessEnv): void {
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
  if (env.NATS_URL) {
    nats.servers = env.NATS_URL.split(",").map((s) => s.trim()).filter(Boolean);
    if (nats.servers.length === 0) throw new ConfigError("NATS_URL", "names no server");
  }
}

function resolvePaths(config: Config, base: string): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  for (const f of config.schemas.files) f.jsonSchema = abs(f.jsonSchema);
  if (config.nats.credsFile) config.nats.credsFile = abs(config.nats.credsFile);
  const tls = config.nats.tls;
  if (tls) for (const k of ["ca", "cert", "key"] as const) if (tls[k]) tls[k] = abs(tls[k]);
  if (config.server.tls) {
    config.server.tls.cert = abs(config.server.tls.cert);
    config.server.tls.key = abs(config.server.tls.key);
  }
}

/** Loads the configuration from argv and the environment. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): LoadedConfig {
  const path = configPath(argv, env);
  const file = path ? resolve(path) : undefined;
  const raw = file ? readConfigFile(file) : {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("(root)", `expected a mapping of settings (in ${file})`);
  }
  const data = structuredClone(raw) as Record<string, any>;
  const natsExplicit = Boolean(env.NATS_URL) || Boolean(data.nats?.servers);
  applyEnv(data, env);
  const config = parseConfig(data, file ?? "environment");
  resolvePaths(config, file ? dirname(file) : process.cwd());
  return { config, file, natsExplicit, natsFromEnv: Boolean(env.NATS_URL) };
}
