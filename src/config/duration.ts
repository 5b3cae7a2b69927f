/** Durations in config: a number of milliseconds, or "500ms", "30s", "5m", "2h", "7d". */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds for a duration, or undefined when it is not one. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return /^\d+$/.test(value.trim()) ? Number(value) : undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}
