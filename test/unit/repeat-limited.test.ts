import { describe, expect, it } from "vitest";
import { createLogger, prettyLine, repeatLimited } from "../../src/logger.js";

describe("repeatLimited: one line per kind of failure per window, and the count of the rest", () => {
  it("repeats in the window are counted; the next line after it carries the count, also when another kind sweeps it", () => {
    let now = 0;
    const lines: [string, Record<string, unknown>][] = [];
    const log = repeatLimited((msg, fields) => lines.push([msg, fields]), () => now, 10_000);
    for (let i = 0; i < 5; i++) log("503 A", "request failed", { n: i });
    log("500 B", "request failed", { n: "b" });
    now = 10_000;
    log("500 B", "request failed", { n: "b2" });
    expect(lines).toEqual([
      ["request failed", { n: 0 }],
      ["request failed", { n: "b" }],
      // A's window passed while B came back: A's four repeats are told, not lost.
      ["request failed", { n: 0, repeatsNotLogged: 4 }],
      ["request failed", { n: "b2" }],
    ]);
  });
});

describe("LOG_FORMAT=pretty", () => {
  it("one readable line: time of day, level, message, fields (quoted only when needed)", () => {
    expect(prettyLine("2026-11-28T08:30:01.250Z", "warn", "disconnected from NATS", { server: "nats://127.0.0.1:4222", err: "connection refused", n: 3, skipped: undefined })).toBe(
      'WARN  disconnected from NATS server=nats://127.0.0.1:4222 err="connection refused" n=3'.replace(/^/, "08:30:01.250 "),
    );
    const lines: string[] = [];
    createLogger("info", (l) => lines.push(l), "pretty").info("natsgate listening", { url: "http://127.0.0.1:8080" });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  natsgate listening url=http:\/\/127\.0\.0\.1:8080$/);
  });
});
