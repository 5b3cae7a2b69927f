import { describe, expect, it } from "vitest";
import { InvalidSubjectError } from "../../src/errors.js";
import { assertPublishSubject, isReservedSubject, subjectMatches, subjectProblem } from "../../src/nats/subjects.js";

describe("subjects - publish rules", () => {
  it.each([
    ["a", undefined],
    ["transfer.completed", undefined],
    ["cluster.dev.nodeAdded", undefined],
    ["a-b_c.D1.$x", undefined],
    ["ünïcödé.subject", undefined],
    ["a/b.c:d", undefined],
    ["", "it is empty"],
    ["a..b", "it has an empty token"],
    [".a", "it has an empty token"],
    ["a.", "it has an empty token"],
    [".", "it has an empty token"],
    ["a b", "it contains whitespace or a control character"],
    ["a\tb", "it contains whitespace or a control character"],
    ["a\nb", "it contains whitespace or a control character"],
    ["a\u0000b", "it contains whitespace or a control character"],
    ["a\u007fb", "it contains whitespace or a control character"],
    ["a\u0085b", "it contains whitespace or a control character"],
    ["a\u00a0b", "it contains whitespace or a control character"],
    ["a\u2028b", "it contains whitespace or a control character"],
    ["a\u200bb", "it contains whitespace or a control character"],
    ["a\ufeffb", "it contains whitespace or a control character"],
    ["a.*", "wildcards (* and >) cannot be published to"],
    ["a.>", "wildcards (* and >) cannot be published to"],
    ["a*", "wildcards (* and >) cannot be published to"],
    ["x".repeat(256), undefined],
    ["x".repeat(257), "it is longer than 256 bytes"],
    ["é".repeat(128), undefined],
    ["é".repeat(129), "it is longer than 256 bytes"],
  ])("subjectProblem(%j) for publishing is %j", (subject, problem) => {
    expect(subjectProblem(subject, false)).toBe(problem);
  });

  it("assertPublishSubject throws InvalidSubjectError naming subject and reason", () => {
    const err = (() => {
      try {
        assertPublishSubject("a..b");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidSubjectError);
    expect(err).toMatchObject({ name: "InvalidSubjectError", subject: "a..b", reason: "it has an empty token", status: 400 });
  });
});

describe("subjects - subscription patterns", () => {
  it.each([
    ["a.*", undefined],
    ["a.>", undefined],
    [">", undefined],
    ["*.*.nodeAdded", undefined],
    ["a.>.b", "> must be the last token"],
    ["a.b*", "a wildcard must be a whole token"],
    ["a.*b", "a wildcard must be a whole token"],
    ["a.>>", "a wildcard must be a whole token"],
    ["a..*", "it has an empty token"],
  ])("subjectProblem(%j) as a pattern is %j", (pattern, problem) => {
    expect(subjectProblem(pattern, true)).toBe(problem);
  });
});

describe("subjects - reserved prefixes", () => {
  it.each([
    ["$SYS.REQ", true],
    ["$JS.API.INFO", true],
    ["$KV.b.k", true],
    ["$O.s", true],
    ["_INBOX.x", true],
    ["$SYS", false],
    ["$sys.x", false],
    ["_INBOXES.x", false],
    ["SYS.x", false],
    ["a.$SYS.x", false],
  ])("isReservedSubject(%j) is %j", (subject, reserved) => {
    expect(isReservedSubject(subject)).toBe(reserved);
  });
});

describe("subjects - NATS matching", () => {
  it.each([
    ["a.b", "a.b", true],
    ["a.*", "a.b", true],
    ["a.*", "a.b.c", false],
    ["a.*", "a", false],
    ["a.>", "a.b", true],
    ["a.>", "a.b.c", true],
    ["a.>", "a", false],
    [">", "a", true],
    [">", "a.b.c", true],
    ["*", "a", true],
    ["*", "a.b", false],
    ["cluster.*.nodeAdded", "cluster.dev.nodeAdded", true],
    ["cluster.*.nodeAdded", "cluster.dev.nodeRemoved", false],
    ["cluster.*.nodeAdded", "cluster.dev.x.nodeAdded", false],
    ["*.*", "a.b", true],
    ["a.b", "a.b.c", false],
  ])("subjectMatches(%j, %j) is %j", (pattern, subject, match) => {
    expect(subjectMatches(pattern, subject)).toBe(match);
  });
});
