/**
 * Structured logging: one JSON object per line on stderr. Callers pass fields,
 * never tokens, secrets or message bodies.
 *
 * Not pino: written lines cost the same (bench/logger.ts: 0.56M vs 0.49M lines/s
 * to /dev/null), the gateway logs little (failures are rate-limited by kind,
 * audit records have their own batched writer), and this runs unchanged on
 * Workers with no dependency and a pretty mode of its own.
 */

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The values `log.level` and `LOG_LEVEL` take. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
/** The values `log.format` and `LOG_FORMAT` take. */
export const LOG_FORMATS = ["json", "pretty"] as const;

/** The logger every component receives. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** `json` (one object per line, for log shippers) or `pretty` (for a developer's terminal). */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A logger writing at `level` and above to `write`, as JSON lines unless `format` is pretty. */
export function createLogger(
  level: LogLevel | "silent" = "info",
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  format: LogFormat = "json",
): Logger {
  const min = level === "silent" ? Infinity : RANK[level];
  const log = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const time = new Date().toISOString();
    write(format === "pretty" ? prettyLine(time, lvl, msg, fields) : JSON.stringify({ time, level: lvl, msg, ...fields }));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger("silent");

/** `12:00:01.250 WARN  disconnected from NATS server=nats://…`: time of day, level, message, fields. */
export function prettyLine(time: string, level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  const rest = Object.entries(fields ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`);
  return [time.slice(11, 23), level.toUpperCase().padEnd(5), msg, ...rest].join(" ");
}

/** Window in which repeats of one failure are counted instead of logged, in ms. */
export const DEFAULT_REPEAT_WINDOW_MS = 10_000;

/**
 * Logs the first occurrence of each kind of failure, then counts repeats for
 * `windowMs`; the next line after the window carries how many were left out.
 * An outage refuses thousands of requests: it should read as one line, not 15k.
 */
export function repeatLimited(
  log: (msg: string, fields: Record<string, unknown>) => void,
  now: () => number = Date.now,
  windowMs = DEFAULT_REPEAT_WINDOW_MS,
): (kind: string, msg: string, fields: Record<string, unknown>) => void {
  const seen = new Map<string, { at: number; repeats: number; msg: string; fields: Record<string, unknown> }>();
  return (kind, msg, fields) => {
    const t = now();
    const last = seen.get(kind);
    if (last && t - last.at < windowMs) {
      last.repeats++;
      return;
    }
    // Kinds whose window has passed are forgotten (the map stays small); their count is told first.
    for (const [k, v] of seen) {
      if (t - v.at < windowMs || k === kind) continue;
      seen.delete(k);
      if (v.repeats > 0) log(v.msg, { ...v.fields, repeatsNotLogged: v.repeats });
    }
    seen.set(kind, { at: t, repeats: 0, msg, fields });
    log(msg, last?.repeats ? { ...fields, repeatsNotLogged: last.repeats } : fields);
  };
}

/** Log lines that an event or a client can repeat at will: one line per kind per window at each level. */
export interface RepeatLimitedLogger {
  warn(kind: string, msg: string, fields: Record<string, unknown>): void;
  error(kind: string, msg: string, fields: Record<string, unknown>): void;
}

/** Wraps `logger` so a flood of one failure (a sink down, a poison message on a busy subject) reads as one line. */
export function repeatLimitedLogger(logger: Logger, now: () => number = Date.now, windowMs = DEFAULT_REPEAT_WINDOW_MS): RepeatLimitedLogger {
  return {
    warn: repeatLimited((msg, fields) => logger.warn(msg, fields), now, windowMs),
    error: repeatLimited((msg, fields) => logger.error(msg, fields), now, windowMs),
  };
}
