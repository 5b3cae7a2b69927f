/**
 * The configuration file on Node: `--config FILE` or `NATSGATE_CONFIG` (YAML or
 * JSON), else the documented default `natsgate.yaml` shipped at the package root;
 * read, then the environment applied and validated by `config/load.ts`.
 * Relative paths in the file resolve against the file's folder.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../config/errors.js";
import { assertNotOpenByDefault, configFromData, type Config, type ConfigEnv, type LoadedConfig } from "../config/load.js";
import { PACKAGE_ROOT } from "./package-root.js";

/** The default configuration file, at the package root (the repository, or /app in the image). */
export const DEFAULT_CONFIG_FILE = join(PACKAGE_ROOT, "natsgate.yaml");

/** The `--config` argument, or `NATSGATE_CONFIG`. */
export function configPath(argv: readonly string[], env: ConfigEnv): string | undefined {
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
export function loadConfig(argv: readonly string[], env: ConfigEnv, defaultFile = DEFAULT_CONFIG_FILE): LoadedConfig {
  const named = configPath(argv, env);
  const path = named ?? (existsSync(defaultFile) ? defaultFile : undefined);
  const file = path ? resolve(path) : undefined;
  const loaded = configFromData(file ? readConfigFile(file) : {}, env, file ?? "environment");
  if (!file) assertNotOpenByDefault(loaded.config);
  resolvePaths(loaded.config, file ? dirname(file) : process.cwd());
  return { ...loaded, file, isDefault: named === undefined && file !== undefined };
}
