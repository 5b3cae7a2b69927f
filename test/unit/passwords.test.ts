import { describe, expect, it } from "vitest";
import { credentialsOf, crossSiteBrowser } from "../../src/security/auth.js";
import { DEFAULT_GATEWAY_FAILURES, DEFAULT_PASSWORD_FAILURES, DEFAULT_USER_FAILURES, DEFAULT_USER_HASHES, PasswordAttempts } from "../../src/security/password-attempts.js";
import { addressKey, TokenBuckets } from "../../src/security/rate-limit.js";
import { MAX_CONCURRENT_CHECKS, MAX_WAITING_CHECKS, PasswordCheck, DEFAULT_PASSWORD_CACHE_MS } from "../../src/security/password-check.js";
import { hashPassword, parsePasswordHash, passwordHashProblem, verifyPassword } from "../../src/security/passwords.js";
import { AuthBusyError } from "../../src/errors.js";

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, "utf8").toString("base64")}`;
const FAST = { cost: 1024 };
const ADDRESS = "198.51.100.1";
/** A check with no budgets in front of it: these tests are about the check itself. */
const unguarded = { begin: () => ({ succeeded() {}, refund() {}, release() {} }), remembered() {} };

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
    const first = await timed(() => check.verify("alice", "s3cret", ADDRESS, unguarded));
    const again = await timed(() => check.verify("alice", "s3cret", ADDRESS, unguarded));
    expect([first.value, again.value]).toEqual(["alice-client", "alice-client"]);
    // The first paid a full scrypt (N=16384: tens of ms), the second none.
    expect(again.ms).toBeLessThan(first.ms / 10);
    now += DEFAULT_PASSWORD_CACHE_MS + 1;
    const expired = await timed(() => check.verify("alice", "s3cret", ADDRESS, unguarded));
    expect(expired.value).toBe("alice-client");
    expect(expired.ms).toBeGreaterThan(again.ms * 10);
    // Another password of the same user is never served from the cache.
    expect(await check.verify("alice", "s3cret ", ADDRESS, unguarded)).toBeUndefined();
    expect(await check.verify("bob", "s3cret", ADDRESS, unguarded)).toBeUndefined();
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
    const wrong = await median(() => check.verify("alice", `wrong-${n++}`, ADDRESS, unguarded));
    const unknown = await median(() => check.verify("mallory", `guess-${n++}`, ADDRESS, unguarded));
    // Loose bounds: the suite runs many files at once on two cores.
    expect(unknown).toBeGreaterThan(wrong / 3);
    expect(unknown).toBeLessThan(wrong * 3);
    expect(await check.verify("mallory", "s3cret", ADDRESS, unguarded)).toBeUndefined();
  });

  it("a config with a changed password (a new check) refuses the old one, though it was cached", async () => {
    const old = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("before", FAST))!, client: "a" }]);
    expect(await old.verify("alice", "before", ADDRESS, unguarded)).toBe("a");
    const changed = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("after", FAST))!, client: "a" }]);
    expect(await changed.verify("alice", "before", ADDRESS, unguarded)).toBeUndefined();
    expect(await changed.verify("alice", "after", ADDRESS, unguarded)).toBe("a");
  });

  it(`runs ${MAX_CONCURRENT_CHECKS} checks at once, queues ${MAX_WAITING_CHECKS}, and refuses the rest with 503`, async () => {
    const check = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("pw", FAST))!, client: "a" }]);
    const total = MAX_CONCURRENT_CHECKS + MAX_WAITING_CHECKS + 40;
    const settled = await Promise.allSettled(Array.from({ length: total }, (_, i) => check.verify("alice", i === 0 ? "pw" : `guess-${i}`, ADDRESS, unguarded)));
    const busy = settled.filter((s) => s.status === "rejected");
    expect(busy).toHaveLength(40);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(AuthBusyError);
    expect((busy[0] as PromiseRejectedResult).reason.status).toBe(503);
    expect(settled[0]).toEqual({ status: "fulfilled", value: "a" });
    // The queue drained: a new check runs at once.
    expect(await check.verify("alice", "pw", ADDRESS, unguarded)).toBe("a");
  });
});

describe("passwords - browsers and mixed costs", () => {
  const ctx = (fetchSite: string | null, origin: string | null, host: string | null = "gw.example:8080") => ({ fetchSite, origin, host, browser: true });

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
    [ctx(null, "http://GW.example:8080"), [], false],
    [ctx(null, "http://gw.example:8080", "GW.Example.:8080"), [], false],
    [ctx(null, "http://gw.example", "gw.example:80"), [], false],
    [ctx(null, "https://gw.example", "gw.example:443"), [], false],
    [ctx(null, "http://gw.example", "gw.example:8080"), [], true],
    [ctx(null, "http://gw.example.evil", "gw.example"), [], true],
    [ctx(null, "http://gw.example"), [], true],
    [ctx(null, "http://gw.example", null), [], true],
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
    const dearWrong = await ms(() => check.verify("dear", "x1", ADDRESS, unguarded));
    const unknown = await ms(() => check.verify("nobody", "x2", ADDRESS, unguarded));
    expect(unknown).toBeGreaterThan(dearWrong / 3);
    expect(new PasswordCheck([{ user: "cheap", hash: cheap, client: 1 }]).mixedParameters).toBe(false);
  });

  it("an attempt reserves failure tokens before hashing and gives them back on success", () => {
    let now = 0;
    const attempts = new PasswordAttempts({ now: () => now });
    for (let i = 0; i < DEFAULT_PASSWORD_FAILURES.burst; i++) {
      const a = attempts.begin("198.51.100.7", `user-${i}`);
      if (i === 0) a.succeeded();
      a.release();
    }
    // One success gave its token back: one more attempt fits, then the address's budget is spent.
    attempts.begin("198.51.100.7", "x").release();
    expect(() => attempts.begin("198.51.100.7", "y")).toThrow("too many failed sign-ins from this address; the password was not checked");
    now += 1_000;
    attempts.begin("198.51.100.7", "z").release();
    // Another address has a budget of its own; two checks at once per address, not three.
    const one = attempts.begin("203.0.113.1", "a");
    attempts.begin("203.0.113.1", "b");
    expect(() => attempts.begin("203.0.113.1", "c")).toThrow("at most 2 password checks at once from one address; the password was not checked");
    one.release();
    expect(() => attempts.begin("203.0.113.1", "d").release()).not.toThrow();
  });

  it("one user name has a budget across addresses, and the gateway one across users", () => {
    let now = 0;
    const attempts = new PasswordAttempts({ now: () => now });
    for (let i = 0; i < DEFAULT_USER_FAILURES.burst; i++) attempts.begin(`192.0.2.${i}`, "alice").release();
    expect(() => attempts.begin("192.0.2.200", "alice")).toThrow("too many failed sign-ins for this user; the password was not checked");
    // The refused attempt took nothing from its address: that address still has its whole budget.
    for (let i = 0; i < DEFAULT_PASSWORD_FAILURES.burst; i++) attempts.begin("192.0.2.200", `other-${i}`).release();
    // alice's composed and decomposed names are one user.
    expect(() => attempts.begin("192.0.2.201", "alice".normalize("NFD"))).toThrow("for this user");
    now += 5_000;
    attempts.begin("192.0.2.201", "alice").release();

    const gateway = new PasswordAttempts({ now: () => now });
    const spent = DEFAULT_GATEWAY_FAILURES.burst;
    for (let i = 0; i < spent; i++) gateway.begin(`10.0.${i >> 8}.${i & 255}`, `user-${i}`).release();
    expect(() => gateway.begin("10.9.9.9", "fresh")).toThrow("too many failed sign-ins on this gateway; the password was not checked");
  });

  it("a spent address budget refuses remembered passwords alike; an address the user signed in from skips the user's and gateway's budgets", () => {
    let now = 0;
    const attempts = new PasswordAttempts({ now: () => now });
    // alice signs in from her address; a guesser then spends the user's budget from elsewhere.
    const first = attempts.begin("192.0.2.1", "alice");
    first.succeeded();
    first.release();
    for (let i = 0; i < DEFAULT_USER_FAILURES.burst; i++) attempts.begin(`198.51.100.${i}`, "alice").release();
    expect(() => attempts.begin("198.51.100.200", "alice")).toThrow("too many failed sign-ins for this user");
    // Her own address still checks (a new password, a cache entry run out), paying only its own budget.
    now += 120_000;
    attempts.begin("192.0.2.1", "alice").release();
    // A guesser behind her address: once that address's budget is spent, remembered passwords are refused too.
    expect(() => attempts.remembered("192.0.2.1", "alice")).not.toThrow();
    for (let i = 1; i < DEFAULT_PASSWORD_FAILURES.burst; i++) attempts.begin("192.0.2.1", `guess-${i}`).release();
    expect(() => attempts.begin("192.0.2.1", "x")).toThrow("too many failed sign-ins from this address; the password was not checked");
    expect(() => attempts.remembered("192.0.2.1", "alice")).toThrow("too many failed sign-ins from this address; the password was not checked");
  });

  it("a remembered password from an address the user is not known at meets the budgets a check there would; a known pair's guesses are held to the user's rate", () => {
    let now = 0;
    const attempts = new PasswordAttempts({ now: () => now });
    // The user's checks from new addresses are spent (a busy fleet): a cached password from an unknown pair is refused alike.
    for (let i = 0; i < DEFAULT_USER_HASHES.burst; i++) {
      const a = attempts.begin(`10.1.${i >> 8}.${i & 255}`, "svc");
      a.succeeded();
      a.release();
    }
    expect(() => attempts.remembered("10.9.0.1", "svc")).toThrow("too many failed sign-ins for this user from new addresses; the password was not checked");
    expect(() => attempts.remembered("10.1.0.1", "svc")).not.toThrow();
    // A known pair: guesses there pay its own budget at the user's rate, not just the address's.
    const known = new PasswordAttempts({ now: () => now });
    const ok = known.begin("192.0.2.9", "alice");
    ok.succeeded();
    ok.release();
    let checked = 0;
    let refusal = "";
    for (let i = 0; i < 60 && !refusal; i++) {
      now += 1_000;
      try {
        known.begin("192.0.2.9", "alice").release();
        checked++;
      } catch (err) {
        refusal = (err as Error).message;
      }
    }
    expect(refusal).toBe("too many failed sign-ins for this user; the password was not checked");
    expect(checked).toBeLessThan(DEFAULT_USER_FAILURES.burst + 12);
  });

  it("one user's checks from new addresses are bounded even when every one is right; a refund gives everything back", () => {
    const attempts = new PasswordAttempts({ now: () => 0 });
    for (let i = 0; i < DEFAULT_USER_HASHES.burst; i++) {
      const a = attempts.begin(`10.1.${i >> 8}.${i & 255}`, "bob");
      a.succeeded();
      a.release();
    }
    expect(() => attempts.begin("10.2.0.1", "bob")).toThrow("too many failed sign-ins for this user from new addresses; the password was not checked");
    // Known addresses are not held back by it.
    attempts.begin("10.1.0.1", "bob").release();
    // A check that never ran (503) costs nothing.
    for (let i = 0; i < DEFAULT_GATEWAY_FAILURES.burst + 5; i++) {
      const a = attempts.begin(`10.3.${i >> 8}.${i & 255}`, `carol-${i}`);
      a.refund();
      a.release();
    }
  });

  it("token buckets keep at most maxBuckets keys, the oldest forgotten first", () => {
    const b = new TokenBuckets(1, 1, () => 0, 3);
    for (const k of ["a", "b", "c"]) expect(b.take(k).ok).toBe(true);
    expect(b.take("a").ok).toBe(false);
    expect(b.take("d").ok).toBe(true);
    // "a" was the oldest: forgotten, so it has its burst again, and "b" is gone next.
    expect(b.peek("a")).toEqual({ ok: true, remaining: 0 });
    expect(b.take("c").ok).toBe(false);
  });

  it("with a stricter rateLimit the per-address budget follows it, never a looser one", () => {
    expect(PasswordAttempts.perAddress(undefined)).toEqual(DEFAULT_PASSWORD_FAILURES);
    expect(PasswordAttempts.perAddress({ perSecond: 100, burst: 200 })).toEqual(DEFAULT_PASSWORD_FAILURES);
    expect(PasswordAttempts.perAddress({ perSecond: 0.5, burst: 3 })).toEqual({ perSecond: 0.5, burst: 3 });
  });

  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:db8:1:2::", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::", "0:0:0:0::/64"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4::/64"],
    ["1::2::3", "1::2::3"],
    ["0:0:0:0:0:ffff:1.2.3.4", "1.2.3.4"],
    ["::ffff:0102:0304", "1.2.3.4"],
    ["::FFFF:0:1.2.3.4", "1.2.3.4"],
    ["2001::a:b:c:d:1.2.3.4", "2001:0:a:b::/64"],
    ["1.2.3.4::1", "1.2.3.4::1"],
    ["64:ff9b::1.2.3.4", "1.2.3.4"],
    ["::1.2.3.4", "1.2.3.4"],
    ["::ffff:1.2.3.256", "::ffff:1.2.3.256"],
    ["1:2:3:4:5:6:7", "1:2:3:4:5:6:7"],
    ["zz::1", "zz::1"],
    [undefined, "local"],
  ])("the address %j counts as %j", (remote, key) => {
    expect(addressKey(remote)).toBe(key);
  });
});

describe("passwords - what a check costs whom", () => {
  const counted = () => {
    const calls = { begun: 0, refunded: 0, released: 0 };
    const guard = {
      begin: () => {
        calls.begun++;
        return { succeeded: () => void calls.refunded++, refund: () => void calls.refunded++, release: () => void calls.released++ };
      },
      remembered() {},
    };
    return { calls, begin: guard };
  };

  it("a remembered password passes only for the address that verified it; elsewhere it is checked (and guarded) again", async () => {
    const check = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("pw", FAST))!, client: "a" }]);
    const { calls, begin } = counted();
    expect(await check.verify("alice", "pw", "192.0.2.1", begin)).toBe("a");
    expect(await check.verify("alice", "pw", "192.0.2.1", begin)).toBe("a");
    expect(calls).toEqual({ begun: 1, refunded: 1, released: 1 });
    // Another address: the guard is asked first, and a guard that refuses stops the check.
    const refuse = {
      begin: () => {
        throw new Error("budget spent");
      },
      remembered() {},
    };
    await expect(check.verify("alice", "pw", "192.0.2.2", refuse)).rejects.toThrow("budget spent");
    // The same /64 is the same address.
    expect(await check.verify("alice", "pw", "2001:db8:1:2::a", begin)).toBe("a");
    expect(await check.verify("alice", "pw", "2001:db8:1:2::b", refuse)).toBe("a");
  });

  it("checks of one credential at once share one hash; a refused one is not charged again within a second", async () => {
    const check = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("pw", FAST))!, client: "a" }]);
    const { calls, begin } = counted();
    const all = await Promise.all(Array.from({ length: 5 }, () => check.verify("alice", "pw", ADDRESS, begin)));
    expect(all).toEqual(["a", "a", "a", "a", "a"]);
    expect(calls).toEqual({ begun: 1, refunded: 1, released: 1 });
    expect(await check.verify("alice", "nope", ADDRESS, begin)).toBeUndefined();
    expect(await check.verify("alice", "nope", ADDRESS, begin)).toBeUndefined();
    expect(calls).toEqual({ begun: 2, refunded: 1, released: 2 });
  });

  it("a check refused for a full queue (503) gives its failure tokens back", async () => {
    const check = new PasswordCheck([{ user: "alice", hash: parsePasswordHash(await hashPassword("pw", FAST))!, client: "a" }]);
    const { calls, begin } = counted();
    const total = MAX_CONCURRENT_CHECKS + MAX_WAITING_CHECKS + 3;
    const settled = await Promise.allSettled(Array.from({ length: total }, (_, i) => check.verify("alice", `guess-${i}`, ADDRESS, begin)));
    expect(settled.filter((s) => s.status === "rejected")).toHaveLength(3);
    expect(calls).toEqual({ begun: total, refunded: 3, released: total });
  });
});
