import { describe, expect, it } from "vitest";
import { credentialsOf, crossSiteBrowser } from "../../src/security/auth.js";
import { DEFAULT_PASSWORD_FAILURES, failureKey, PasswordAttempts } from "../../src/security/password-attempts.js";
import { MAX_CONCURRENT_CHECKS, MAX_WAITING_CHECKS, PasswordCheck, DEFAULT_PASSWORD_CACHE_MS } from "../../src/security/password-check.js";
import { hashPassword, parsePasswordHash, passwordHashProblem, verifyPassword } from "../../src/security/passwords.js";
import { AuthBusyError } from "../../src/errors.js";

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, "utf8").toString("base64")}`;
const FAST = { cost: 1024 };

describe("passwords - scrypt hashes", () => {
  it("a hash names its parameters, is salted, and verifies only its own password", async () => {
    const a = await hashPassword("correct horse", FAST);
    const b = await hashPassword("correct horse", FAST);
    expect(a).toMatch(/^scrypt:N=1024,r=8,p=1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(passwordHashProblem(a)).toBeUndefined();
    expect(await verifyPassword("correct horse", parsePasswordHash(a)!)).toBe(true);
    expect(await verifyPassword("correct horsf", parsePasswordHash(a)!)).toBe(false);
    expect(await verifyPassword("", parsePasswordHash(a)!)).toBe(false);
  });

  it("non-ASCII passwords verify, composed or decomposed alike (NFC)", async () => {
    const h = parsePasswordHash(await hashPassword("pässwörd ✓ 🙂", FAST))!;
    expect(await verifyPassword("pässwörd ✓ 🙂", h)).toBe(true);
    expect(await verifyPassword("pa\u0308sswo\u0308rd ✓ 🙂", h)).toBe(true);
    expect(await verifyPassword("passwörd ✓ 🙂", h)).toBe(false);
  });

  it.each([
    ["hunter2", /never the password itself: print one with `npm run -s hash-password`/],
    ["sha256:abcd", /never the password itself/],
    ["scrypt:N=16384,r=8,p=1:short:key", /is not a scrypt hash of the form/],
    ["scrypt:N=1000,r=8,p=1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /not a power of two of at least 1024/],
    ["scrypt:N=512,r=8,p=1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /not a power of two of at least 1024/],
    ["scrypt:N=1024,r=8,p=17:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /p outside 1-16/],
    [`scrypt:N=1024,r=8,p=1:AAAAAAAAAAAAAAAAAAAAAA:${"A".repeat(65)}`, /is not a scrypt hash of the form/],
    ["scrypt:N=1048576,r=8,p=1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /more than 256 MiB/],
    ["scrypt:N=1024,r=0,p=1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /r outside 1-32 or p outside 1-16/],
  ])("the stored value %j is refused", (stored, why) => {
    expect(passwordHashProblem(stored)).toMatch(why);
  });
});

describe("auth - the Authorization header", () => {
  it.each([
    [basic("alice:s3cret"), { user: "alice", password: "s3cret" }],
    [basic("alice:with:colons"), { user: "alice", password: "with:colons" }],
    [basic("alice:"), { user: "alice", password: "" }],
    [basic("jürgen:pässwörd ✓"), { user: "jürgen", password: "pässwörd ✓" }],
    [`basic   ${Buffer.from("a:b").toString("base64")}  `, { user: "a", password: "b" }],
    ["Bearer tok-123", "tok-123"],
    ["Basic", ""],
    ["Basic ", ""],
    ["Basic !!!!", ""],
    ["Basic YWxpY2U", ""], // not padded to a multiple of 4
    [basic("no-colon"), ""],
    [basic(":no-user"), ""],
    [basic("alice:line\nbreak"), ""],
    [basic("nul\u0000:x"), ""],
    [`Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString("base64")}`, ""], // not UTF-8
    [`Basic ${"QUFB".repeat(1100)}`, ""], // past 4096 characters
    ["Digest username=x", ""],
  ])("%j reads as %j", (header, expected) => {
    expect(credentialsOf(header)).toEqual(expected);
  });

  it("no header is no credentials", () => {
    expect(credentialsOf(null)).toBeUndefined();
  });
});

describe("passwords - checking with a cache, a dummy and a queue", () => {
  const entries = async () => [
    { user: "alice", hash: parsePasswordHash(await hashPassword("s3cret"))!, client: "alice-client" },
    { user: "bob", hash: parsePasswordHash(await hashPassword("other"))!, client: "bob-client" },
  ];
  const timed = async <T>(f: () => Promise<T>) => {
    const t = performance.now();
    const value = await f();
    return { value, ms: performance.now() - t };
  };

  it("a verified credential is taken from the cache until it expires, then checked again", async () => {
    let now = 1_000_000;
    const check = new PasswordCheck(await entries(), { now: () => now });
    const first = await timed(() => check.verify("alice", "s3cret"));
    const again = await timed(() => check.verify("alice", "s3cret"));
    expect([first.value, again.value]).toEqual(["alice-client", "alice-client"]);
    // The first paid a full scrypt (N=16384: tens of ms), the second none.
    expect(again.ms).toBeLessThan(first.ms / 10);
    now += DEFAULT_PASSWORD_CACHE_MS + 1;
    const expired = await timed(() => check.verify("alice", "s3cret"));
    expect(expired.value).toBe("alice-client");
    expect(expired.ms).toBeGreaterThan(again.ms * 10);
    // Another password of the same user is never served from the cache.
    expect(await check.verify("alice", "s3cret ")).toBeUndefined();
    expect(await check.verify("bob", "s3cret")).toBeUndefined();
  });

  it("an unknown user costs a full hash, as a wrong password does", async () => {
    const check = new PasswordCheck(await entries());
    const median = async (f: () => Promise<unknown>) => {
      const ms = [];
      for (let i = 0; i < 5; i++) ms.push((await timed(f)).ms);
      return ms.sort((a, b) => a - b)[2]!;
    };
    let n = 0;
    // Different passwords each time: a refused credential is remembered for a second.
    const wrong = await median(() => check.verify("alice", `wrong-${n++}`));
    const unknown = await median(() => check.verify("mallory", `guess-${n++}`));
    // Loose bounds: the suite runs many files at once on two cores.
    expect(unknown).toBeGreaterThan(wrong / 3);
    expect(unknown).toBeLessThan(wrong * 3);
    expect(await check.verify("mallory", "s3cret")).toBeUndefined();
  });

  it("a config with a changed password (a new check) refuses the old one, though it was cached", async () => {
    const old = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("before", FAST))!, client: "a" }]);
    expect(await old.verify("alice", "before")).toBe("a");
    const changed = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("after", FAST))!, client: "a" }]);
    expect(await changed.verify("alice", "before")).toBeUndefined();
    expect(await changed.verify("alice", "after")).toBe("a");
  });

  it(`runs ${MAX_CONCURRENT_CHECKS} checks at once, queues ${MAX_WAITING_CHECKS}, and refuses the rest with 503`, async () => {
    const check = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("pw", FAST))!, client: "a" }]);
    const total = MAX_CONCURRENT_CHECKS + MAX_WAITING_CHECKS + 40;
    const settled = await Promise.allSettled(Array.from({ length: total }, (_, i) => check.verify("alice", i === 0 ? "pw" : `guess-${i}`)));
    const busy = settled.filter((s) => s.status === "rejected");
    expect(busy).toHaveLength(40);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(AuthBusyError);
    expect((busy[0] as PromiseRejectedResult).reason.status).toBe(503);
    expect(settled[0]).toEqual({ status: "fulfilled", value: "a" });
    // The queue drained: a new check runs at once.
    expect(await check.verify("alice", "pw")).toBe("a");
  });
});

describe("passwords - browsers and mixed costs", () => {
  const ctx = (fetchSite: string | null, origin: string | null, host = "gw.example:8080") => ({ fetchSite, origin, host });

  it.each([
    [ctx("cross-site", null), [], true],
    [ctx("same-site", null), [], true],
    [ctx("same-origin", "http://gw.example:8080"), [], false],
    [ctx("none", null), [], false],
    [ctx("cross-site", "https://console.example"), ["https://console.example"], false],
    [ctx(null, "https://evil.example"), [], true],
    [ctx(null, "null"), [], true],
    [ctx(null, "http://gw.example:8080"), [], false],
    [ctx(null, "not a url"), [], true],
    [ctx(null, null), [], false],
  ])("crossSiteBrowser(%j, cors %j) is %j", (b, cors, expected) => {
    expect(crossSiteBrowser(b, cors as string[])).toBe(expected);
  });

  it("with mixed scrypt costs an unknown user is checked at the costliest, and the check says they are mixed", async () => {
    const cheap = parsePasswordHash(await hashPassword("a", { cost: 1024 }))!;
    const dear = parsePasswordHash(await hashPassword("b", { cost: 16384 }))!;
    const check = new PasswordCheck([
      { user: "cheap", hash: cheap, client: 1 },
      { user: "dear", hash: dear, client: 2 },
    ]);
    expect(check.mixedParameters).toBe(true);
    const ms = async (f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const dearWrong = await ms(() => check.verify("dear", "x1"));
    const unknown = await ms(() => check.verify("nobody", "x2"));
    expect(unknown).toBeGreaterThan(dearWrong / 3);
    expect(new PasswordCheck([{ user: "cheap", hash: cheap, client: 1 }]).mixedParameters).toBe(false);
  });

  it("an attempt reserves a failure token before hashing and gives it back on success", () => {
    let now = 0;
    const attempts = new PasswordAttempts(undefined, () => now);
    const key = failureKey("198.51.100.7");
    for (let i = 0; i < DEFAULT_PASSWORD_FAILURES.burst; i++) {
      const a = attempts.begin("198.51.100.7");
      if (i === 0) a.succeeded();
      a.release();
    }
    // One success gave its token back: one more attempt fits, then the budget is spent.
    attempts.begin("198.51.100.7").release();
    expect(() => attempts.begin("198.51.100.7")).toThrow("too many failed sign-ins from this address; the password was not checked");
    expect(attempts.failures.take(key).ok).toBe(false);
    now += 1_000;
    attempts.begin("198.51.100.7").release();
    // Another address has a budget of its own; two checks at once per address, not three.
    const one = attempts.begin("203.0.113.1");
    attempts.begin("203.0.113.1");
    expect(() => attempts.begin("203.0.113.1")).toThrow("at most 2 password checks at once from one address; the password was not checked");
    one.release();
    expect(() => attempts.begin("203.0.113.1").release()).not.toThrow();
  });
});
