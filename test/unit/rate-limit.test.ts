import { describe, expect, it } from "vitest";
import { ClientSlots, TokenBuckets } from "../../src/security/rate-limit.js";

describe("rate limit - token buckets", () => {
  it("allows a burst, then refills at perSecond", () => {
    let now = 1_000_000;
    const b = new TokenBuckets(2, 3, () => now);
    expect(b.take("c")).toEqual({ ok: true, remaining: 2 });
    expect(b.take("c")).toEqual({ ok: true, remaining: 1 });
    expect(b.take("c")).toEqual({ ok: true, remaining: 0 });
    expect(b.take("c")).toEqual({ ok: false, retryAfterMs: 500 });
    now += 500;
    expect(b.take("c")).toEqual({ ok: true, remaining: 0 });
    now += 10_000;
    expect(b.take("c")).toEqual({ ok: true, remaining: 2 });
  });

  it("keys are independent", () => {
    const b = new TokenBuckets(1, 1, () => 0);
    expect(b.take("a").ok).toBe(true);
    expect(b.take("a").ok).toBe(false);
    expect(b.take("b").ok).toBe(true);
  });
});

describe("rate limit - stream slots", () => {
  it("caps concurrent streams per client; release is idempotent", () => {
    const s = new ClientSlots(2);
    const r1 = s.acquire("c")!;
    const r2 = s.acquire("c")!;
    expect(s.acquire("c")).toBeUndefined();
    expect(s.acquire("other")).toBeDefined();
    r1();
    r1();
    expect(s.count("c")).toBe(1);
    expect(s.acquire("c")).toBeDefined();
    r2();
    expect(s.count("c")).toBe(1);
  });
});
