import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { patternCovered, patternIntersection, patternsOverlap } from "../../src/nats/subjects.js";
import { Permissions, SubjectRules } from "../../src/security/permissions.js";
import { subjectMatches } from "../../src/nats/subjects.js";

describe("permissions - publish (literal subjects)", () => {
  const rules = new SubjectRules({ allow: ["transfer.>", "deploy.request", "cluster.*.nodeAdded"], deny: ["transfer.secret.>"] });
  it.each([
    ["transfer.completed", true],
    ["transfer.a.b.c", true],
    ["transfer", false],
    ["transfer.secret.x", false],
    ["transfer.secret", true],
    ["deploy.request", true],
    ["deploy.request.x", false],
    ["deploy", false],
    ["cluster.dev.nodeAdded", true],
    ["cluster.dev.nodeRemoved", false],
    ["cluster.nodeAdded", false],
    ["other", false],
  ])("permits(%j) is %j", (subject, ok) => {
    expect(rules.permits(subject)).toBe(ok);
  });

  it("deny wins over allow", () => {
    expect(new SubjectRules({ allow: [">"], deny: ["a.b"] }).permits("a.b")).toBe(false);
    expect(new SubjectRules({ allow: ["a.b"], deny: ["a.*"] }).permits("a.b")).toBe(false);
  });

  it("nothing is allowed without an allow list", () => {
    expect(new SubjectRules({}).permits("a")).toBe(false);
    expect(new SubjectRules({ deny: ["x"] }).permits("a")).toBe(false);
  });

  it.each([
    ["$SYS.REQ.SERVER.PING"],
    ["$JS.API.INFO"],
    ["$KV.bucket.key"],
    ["$O.store.chunk"],
    ["$MQTT.sess.client1"],
    ["_INBOX.abc"],
  ])("reserved %s is refused under allow >, allowed only when named literally", (subject) => {
    expect(new SubjectRules({ allow: [">"] }).permits(subject)).toBe(false);
    expect(new SubjectRules({ allow: ["*.>"] }).permits(subject)).toBe(false);
    const first = subject.split(".")[0];
    expect(new SubjectRules({ allow: [`${first}.>`] }).permits(subject)).toBe(true);
  });

  it("a literal reserved allow opens only what it matches, not the prefix for the other allows", () => {
    const r = new SubjectRules({ allow: ["$KV.config.>", ">"] });
    expect(r.permits("$KV.config.x")).toBe(true);
    expect(r.permits("$KV.other.x")).toBe(false);
    expect(r.permitsPattern("$KV.other.>")).toBe(false);
    expect(r.permitsPattern("$KV.config.>")).toBe(true);
    expect(r.deliveryFilter([">"])!("$KV.other.x")).toBe(false);
    expect(r.deliveryFilter([">"])!("$KV.config.x")).toBe(true);
    expect(r.permits("$JS.API.INFO")).toBe(false);
    expect(new SubjectRules({ allow: ["$KV.config.>"] }).permits("$KV.other.x")).toBe(false);
  });
});

describe("permissions - subscribe (allow containment; deny refuses only what it wholly covers)", () => {
  const allowNodeAdded = new SubjectRules({ allow: ["cluster.*.nodeAdded"] });
  it.each([
    ["cluster.dev.nodeAdded", true],
    ["cluster.*.nodeAdded", true],
    ["cluster.>", false],
    ["cluster.*.*", false],
    ["*.dev.nodeAdded", false],
    [">", false],
    ["cluster.dev.>", false],
  ])("allow cluster.*.nodeAdded: %j is %j", (pattern, ok) => {
    expect(allowNodeAdded.permitsPattern(pattern)).toBe(ok);
  });

  it.each([
    [["a.>"], [], "a.b", true],
    [["a.>"], [], "a.*", true],
    [["a.>"], [], "a.>", true],
    [["a.>"], [], "a", false],
    [["a.>"], [], ">", false],
    [["a.*"], [], "a.>", false],
    [["a.*", "a.*.>"], [], "a.>", true],
    [["a.*", "a.*.*"], [], "a.>", false],
    [["a.x", "a.y"], [], "a.*", false],
    [["*.b"], [], "a.b", true],
    // `*` can be $SYS or _INBOX: the reserved deny only overlaps, so it is filtered at delivery.
    [["*.b"], [], "*.b", true],
    [["*.*"], [], "a.>", false],
    [[">"], [], ">", true],
    [[">"], [], "a.>", true],
    [[">"], ["a.secret"], "a.*", true],
    [[">"], ["a.secret"], "a.secret", false],
    [[">"], ["a.secret"], "a.public", true],
    [[">"], ["a.*.x"], "a.>", true],
    [[">"], ["a.*.x"], "a.b.x", false],
    [[">"], ["a.*.x"], "a.*.x", false],
    [[">"], ["a.*", "a.*.>"], "a.>", false],
    [["orders.>"], ["orders.secret.*"], "orders.>", true],
    [["orders.>"], ["orders.secret.*"], "orders.secret.*", false],
    [["orders.>"], ["orders.secret.*"], "orders.secret.x", false],
    [["orders.>"], ["orders.secret.*"], "orders.secret.>", true],
    [[">"], [], "$SYS.>", false],
    [[">"], [], "$KV.bucket.key", false],
    [[">"], [], "_INBOX.>", false],
    [["$KV.>"], [], "$KV.>", true],
    [[">", "$NATSGATE.>"], [], "$NATSGATE.>", false],
    [[">"], [], "*.created", true],
    [["orders.>"], [], "orders.*.created", true],
  ])("allow %j deny %j: %j is %j", (allow, deny, pattern, ok) => {
    expect(new SubjectRules({ allow, deny }).permitsPattern(pattern)).toBe(ok);
  });
});

describe("permissions - delivery filter for patterns that overlap denies", () => {
  it("anonymous > passes application subjects and drops reserved and internal ones", () => {
    const rules = Permissions.unrestricted(["$NATSGATE.>", "$KV.natsgate_webhooks.>"]).subscribe;
    const permits = rules.deliveryFilter([">"])!;
    expect(permits("orders.created")).toBe(true);
    for (const s of ["$KV.natsgate_webhooks.hook1", "$JS.API.STREAM.INFO.EVENTS", "_INBOX.abc.1", "$NATSGATE.deadletter.x", "$SYS.SERVER.PING", "$O.store.x"]) {
      expect([s, permits(s)]).toEqual([s, false]);
    }
  });

  it("a deny inside the pattern filters; a pattern clear of every deny needs no filter", () => {
    const rules = new SubjectRules({ allow: ["orders.>"], deny: ["orders.secret.*"] });
    const permits = rules.deliveryFilter(["orders.>"])!;
    expect(permits("orders.created")).toBe(true);
    expect(permits("orders.secret.x")).toBe(false);
    expect(permits("orders.secret.x.y")).toBe(true);
    expect(rules.deliveryFilter(["orders.public.*"])).toBeUndefined();
  });

  it("the gateway's internal subjects never open, even to an allow naming them", () => {
    const rules = new SubjectRules({ allow: [">", "$NATSGATE.>", "$KV.>"] }, ["$NATSGATE.>", "$KV.natsgate_webhooks.>"]);
    expect(rules.permits("$NATSGATE.deadletter.x")).toBe(false);
    expect(rules.permits("$KV.natsgate_webhooks.h")).toBe(false);
    expect(rules.permits("$KV.other.k")).toBe(true);
    expect(rules.permitsPattern("$KV.natsgate_webhooks.>")).toBe(false);
    expect(rules.permitsPattern("$KV.>")).toBe(true);
    expect(rules.deliveryFilter(["$KV.>"])!("$KV.natsgate_webhooks.h")).toBe(false);
  });
});

describe("permissions - queue groups need a \"subject queue\" grant, as in NATS", () => {
  const rules = new SubjectRules({ allow: ["orders.>", "orders.> workers", "jobs.* w-*"], deny: ["orders.secret.* workers"] });
  it.each([
    ["orders.>", undefined, true],
    ["orders.>", "workers", true],
    ["orders.created", "workers", true],
    ["orders.>", "other", false],
    ["jobs.a", "w-1", false], // queue patterns match by token: w-* is one literal token
    ["jobs.*", "workers", false],
    ["orders.secret.x", "workers", false],
    ["orders.secret.x", undefined, true],
  ] as const)("%s queue %s: %s", (pattern, queue, ok) => {
    expect(rules.permitsPattern(pattern, queue)).toBe(ok);
  });

  it("a queue deny overlapping the pattern needs the delivery filter for that group only", () => {
    expect(rules.deliveryFilter(["orders.>"], "workers")).toBeDefined();
    expect(rules.deliveryFilter(["orders.>"], "other")).toBeUndefined();
    expect(rules.deliveryFilter(["orders.>"])).toBeUndefined();
  });

  it("unrestricted principals may join any group on any non-reserved subject", () => {
    const any = Permissions.unrestricted().subscribe;
    expect(any.permitsPattern("jobs.*", "workers")).toBe(true);
    expect(any.permitsPattern("$KV.x.>", "workers")).toBe(false);
  });
});

describe("permissions - pattern algebra", () => {
  const t = (p: string) => p.split(".");
  it.each([
    ["a.b", "a.b", true],
    ["a.*", "a.b", true],
    ["a.*", "*.b", true],
    ["a.>", "a", false],
    [">", "a.b.c", true],
    ["a.b", "a.c", false],
    ["a.*.c", "a.b.*", true],
    ["a.*", "a.b.c", false],
  ])("patternsOverlap(%j, %j) is %j", (a, b, ok) => {
    expect(patternsOverlap(t(a), t(b))).toBe(ok);
    expect(patternsOverlap(t(b), t(a))).toBe(ok);
  });

  it("unrestricted principals still may not touch reserved prefixes", () => {
    const p = Permissions.unrestricted();
    expect(p.admin).toBe(true);
    expect(p.publish.permits("anything.at.all")).toBe(true);
    expect(p.publish.permits("$SYS.x")).toBe(false);
    expect(p.subscribe.permitsPattern("a.>")).toBe(true);
  });
});

// Brute force: enumerate every subject over a small alphabet up to a length past
// any pattern. "zz" (named by no pattern) stands for every other token; "$SYS"
// stands for the reserved prefixes no generated pattern names literally.
const ALPHABET = ["a", "b", "_INBOX", "$SYS", "zz"];
const MAX_LEN = 5;
const SUBJECTS: string[] = [];
(function enumerate(prefix: string[]) {
  if (prefix.length > 0) SUBJECTS.push(prefix.join("."));
  if (prefix.length === MAX_LEN) return;
  for (const t of ALPHABET) enumerate([...prefix, t]);
})([]);

const token = fc.constantFrom("a", "b", "_INBOX", "*");
const pattern = fc
  .tuple(fc.array(token, { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([tokens, full]) => (full ? [...tokens, ">"] : tokens).join("."));

describe("permissions - property: containment equals brute-force matching", () => {
  it("permitsPattern(P) holds exactly when every subject P matches is allowed and some escapes the denies", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), fc.array(pattern, { maxLength: 2 }), pattern, (allow, deny, p) => {
        const rules = new SubjectRules({ allow, deny });
        const matched = SUBJECTS.filter((s) => subjectMatches(p, s));
        // A pattern under a reserved prefix answers to the allows naming that prefix; any other to the rest.
        const reserved = (x: string) => ["_INBOX", "$SYS"].includes(x.split(".")[0]!);
        const first = p.split(".")[0]!;
        const allows = reserved(p) ? allow.filter((a) => a.split(".")[0] === first) : allow.filter((a) => !reserved(a));
        const brute = matched.every((s) => allows.some((a) => subjectMatches(a, s))) && matched.some((s) => rules.permits(s));
        expect(rules.permitsPattern(p)).toBe(brute);
      }),
      { numRuns: 1000 },
    );
  });

  it("the delivery filter passes exactly the subjects a client may receive", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), fc.array(pattern, { maxLength: 2 }), pattern, (allow, deny, p) => {
        const rules = new SubjectRules({ allow, deny });
        fc.pre(rules.permitsPattern(p));
        const permits = rules.deliveryFilter([p]) ?? (() => true);
        for (const s of SUBJECTS.filter((x) => subjectMatches(p, x))) expect([s, permits(s)]).toEqual([s, rules.permits(s)]);
      }),
      { numRuns: 500 },
    );
  });

  it("patternCovered agrees with brute force without denies", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), pattern, (allow, p) => {
        const brute = SUBJECTS.filter((s) => subjectMatches(p, s)).every((s) => allow.some((a) => subjectMatches(a, s)));
        expect(patternCovered(p.split("."), allow.map((a) => a.split(".")))).toBe(brute);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("subjects - pattern intersection", () => {
  it.each([
    [">", "transfer.>", "transfer.>"],
    ["*.created", "orders.>", "orders.created"],
    ["*.created", "orders.*", "orders.created"],
    ["a.*.c", "a.b.*", "a.b.c"],
    ["a.>", "a.b", "a.b"],
    ["a.*", "a.b.c", undefined],
    ["a.b", "a.c", undefined],
    ["a.>", "a", undefined],
  ])("%s ∩ %s is %s", (a, b, want) => {
    expect(patternIntersection(a.split("."), b.split("."))?.join(".")).toBe(want);
    expect(patternIntersection(b.split("."), a.split("."))?.join(".")).toBe(want);
  });

  it("matches exactly the subjects both patterns match (brute force)", () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const both = SUBJECTS.filter((s) => subjectMatches(a, s) && subjectMatches(b, s));
        const i = patternIntersection(a.split("."), b.split("."));
        const viaI = i === undefined ? [] : SUBJECTS.filter((s) => subjectMatches(i.join("."), s));
        expect(viaI).toEqual(both);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("permissions - property: literal subjects against an independent reference model", () => {
  // The model, written from the rules as documented (README, Auth): NATS matching, deny wins,
  // a reserved subject only through an allow naming its prefix, internal subjects never.
  const RESERVED = ["$SYS", "$JS", "$KV", "$O", "$MQTT", "_INBOX", "$NATSGATE"];
  const INTERNAL = ["$NATSGATE.>", "_INBOX.natsgate.>", "$KV.natsgate_webhooks.>"];
  const matches = (p: string[], s: string[]): boolean => {
    if (p.length === 0) return s.length === 0;
    if (p[0] === ">") return s.length > 0;
    if (s.length === 0) return false;
    return (p[0] === "*" || p[0] === s[0]) && matches(p.slice(1), s.slice(1));
  };
  const model = (allow: string[], deny: string[], subject: string): boolean => {
    const s = subject.split(".");
    if ([...deny, ...INTERNAL].some((d) => matches(d.split("."), s))) return false;
    const reserved = RESERVED.includes(s[0]!);
    return allow.some((a) => {
      const first = a.split(".")[0]!;
      const sameSide = reserved ? first === s[0] : !RESERVED.includes(first);
      return sameSide && matches(a.split("."), s);
    });
  };
  const literal = fc.constantFrom("a", "b", "$KV", "$JS", "_INBOX", "$NATSGATE", "natsgate", "natsgate_webhooks", "API");
  const subject = fc.array(literal, { minLength: 1, maxLength: 4 }).map((t) => t.join("."));
  const rule = fc
    .tuple(fc.array(fc.oneof(literal, fc.constant("*")), { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([t, full]) => (full ? [...t, ">"] : t).join("."));
  const ruleOrAll = fc.oneof(rule, fc.constantFrom(">", "*.>", "$KV.>", "_INBOX.>"));

  it("permits(subject) equals the model for random allow/deny sets (publish and subscribe sides)", () => {
    fc.assert(
      fc.property(fc.array(ruleOrAll, { maxLength: 5 }), fc.array(rule, { maxLength: 3 }), fc.array(subject, { minLength: 1, maxLength: 8 }), (allow, deny, subjects) => {
        const perms = new Permissions({ allow, deny }, { allow, deny }, false, INTERNAL);
        for (const s of subjects) {
          const want = model(allow, deny, s);
          expect([allow, deny, s, perms.publish.permits(s)]).toEqual([allow, deny, s, want]);
          expect([allow, deny, s, perms.subscribe.permits(s)]).toEqual([allow, deny, s, want]);
        }
      }),
      { numRuns: 3000, seed: 20261128 },
    );
  });
});
