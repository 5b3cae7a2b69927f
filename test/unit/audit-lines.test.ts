import { describe, expect, it } from "vitest";
import { batchedStdout, encodeLines } from "../../src/security/audit.js";

describe("audit - lines encoded for stdout", () => {
  it("writes each line and a newline as UTF-8, ASCII or not", () => {
    const lines = ['{"a":1}', "", "ünïcödé ✓ 𝄞 日本語", "x".repeat(10_000), "€".repeat(5_000), "end"];
    expect(encodeLines(lines).toString("utf8")).toBe(lines.join("\n") + "\n");
    expect(encodeLines(lines).equals(Buffer.from(lines.join("\n") + "\n"))).toBe(true);
  });

  it("grows past its ASCII estimate when every line is multi-byte", () => {
    const lines = Array.from({ length: 500 }, (_, i) => `${"日".repeat(i % 37)}${"🙂".repeat(i % 5)}#${i}`);
    expect(encodeLines(lines).equals(Buffer.from(lines.join("\n") + "\n"))).toBe(true);
  });

  it("a turn's lines go out in one write, in order", async () => {
    const writes: string[] = [];
    const write = batchedStdout({ write: (chunk) => writes.push(Buffer.from(chunk).toString()) });
    write("one");
    write("two ✓");
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    write("three");
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(["one\ntwo ✓\n", "three\n"]);
  });
});
