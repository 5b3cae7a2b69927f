/**
 * RFC 3339 date-times as clients send them (`since=` on subscriptions, a
 * webhook replay's `from`): one parser, so every endpoint accepts the same
 * strings. Seconds are required (RFC 3339 §5.6), fractions and `Z` or an
 * offset allowed, and impossible dates (Feb 30, hour 24) refused rather than
 * rolled over.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

const leap = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && leap(year) ? 29 : DAYS[month - 1]!);

/** The instant `value` names, or undefined when it is not an RFC 3339 date-time. */
export function parseRfc3339(value: string): Date | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  // A leap second (:60) has no Date; it is refused rather than silently moved.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const time = new Date(value.toUpperCase());
  // An offset can carry 9999-12-31 past year 9999, which nothing downstream can write back.
  if (Number.isNaN(time.getTime()) || time.getUTCFullYear() > 9999 || time.getUTCFullYear() < 0) return undefined;
  return time;
}
