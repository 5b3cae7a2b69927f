import { describe, expect, it } from "vitest";
import { jsonDeeperThan, parseJsonText } from "../../src/http/body.js";
import { JsonTooDeepError, MalformedJsonError } from "../../src/errors.js";

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
