/**
 * Structured logging: one JSON object per line on stderr. Callers pass fields,
 * never tokens, secrets or message bodies.
 */

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The logger every component receives. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A JSON-lines logger writing at `level` and above to `write`. */
export function createLogger(
  level: LogLevel | "silent" = "info",
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
): Logger {
  const min = level === "silent" ? Infinity : RANK[level];
  const log = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger("silent");

/** Level from `LOG_LEVEL`, defaulting to info. */
export function levelFromEnv(value: string | undefined): LogLevel | "silent" {
  return value === "debug" || value === "info" || value === "warn" || value === "error" || value === "silent"
    ? value
    : "info";
}
