import { describe, expect, it } from "vitest";
import { jsonDeeperThan, parseJsonText } from "../../src/http/body.js";
import { JsonTooDeepError, MalformedJsonError } from "../../src/errors.js";
import { arrayItemsExceed } from "../../src/publish/batch.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("JSON nesting depth (server.maxJsonDepth)", () => {
  it.each([
    ["1", 0],
    ['"[[[["', 0],
    ["{}", 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['["\\"[[[", {"x": "\\\\"}, [[]]]', 3],
    ['{"é[": {"ü{": []}}', 3],
  ])("%s nests %i levels", (text, depth) => {
    for (const t of [text, bytes(text)]) {
      expect(jsonDeeperThan(t, depth)).toBe(false);
      if (depth > 0) expect(jsonDeeperThan(t, depth - 1)).toBe(true);
    }
  });

  it("parseJsonText refuses what is too deep before parsing, and malformed JSON as before", () => {
    expect(() => parseJsonText("[".repeat(65) + "]".repeat(65))).toThrow(JsonTooDeepError);
    expect(parseJsonText("[".repeat(64) + "]".repeat(64))).toBeInstanceOf(Array);
    expect(() => parseJsonText("{nope")).toThrow(MalformedJsonError);
  });
});

describe("batch item counting before parsing", () => {
  it.each([
    ["[]", 0],
    ["[1]", 1],
    ['[{"a":[1,2,3]},{"b":"x,y"},[4,5]]', 3],
    ['[ "\\",", {"c": {"d": [1, 2]}} ]', 2],
  ])("%s has %i top-level items", (text, n) => {
    expect(arrayItemsExceed(text, n)).toBe(false);
    // (maxBatchItems is at least 1)
    if (n > 1) expect(arrayItemsExceed(text, n - 1)).toBe(true);
  });

  it("a 32 MiB body of empty items is refused without building them", () => {
    // Decoded from bytes, as the gateway gets it (a flat string, not a concatenation).
    const text = new TextDecoder().decode(new TextEncoder().encode("[" + "{},".repeat(11_000_000) + "{}]"));
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    expect(arrayItemsExceed(text, 100_000)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  });
});
