import { describe, expect, it } from "vitest";
import { parseRfc3339 } from "../../src/http/time.js";

describe("RFC 3339 date-times (since=, replay from)", () => {
  it.each([
    ["2026-11-24T20:00:00Z", "2026-11-24T20:00:00.000Z"],
    ["2026-11-24T20:00:00.123456Z", "2026-11-24T20:00:00.123Z"],
    ["2026-11-24T21:30:00+01:30", "2026-11-24T20:00:00.000Z"],
    ["2026-11-24t20:00:00z", "2026-11-24T20:00:00.000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
  ])("%s is %s", (input, iso) => {
    expect(parseRfc3339(input)?.toISOString()).toBe(iso);
  });

  it.each([
    "2026-11-24T20:00Z", // seconds are required
    "2026-11-24",
    "2026-11-24 20:00:00Z",
    "2026-11-24T20:00:00", // no offset
    "2026-02-30T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-11-24T24:00:00Z",
    "2026-11-24T20:60:00Z",
    "2026-11-24T23:59:60Z",
    "2026-11-24T20:00:00+24:00",
    "yesterday",
    "",
  ])("%j is refused", (input) => {
    expect(parseRfc3339(input)).toBeUndefined();
  });
});
