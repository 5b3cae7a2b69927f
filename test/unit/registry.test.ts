import { z } from "zod";
import { describe, expect, it } from "vitest";
import { SchemaRegistry, jsonPointer } from "../../src/events/registry.js";
import { builtinSchemas } from "../../schemas/index.js";
import { transferCompleted, nodeAdded, deploymentStatus } from "../fixtures/events.js";

const entry = (subject: string) => ({ subject, schema: z.object({ tag: z.literal(subject) }), source: "builtin" });

describe("schema registry", () => {
  it("an exact pattern wins, then the most specific wildcard", () => {
    const r = new SchemaRegistry();
    for (const s of [">", "a.>", "a.*", "a.*.c", "a.b.c", "*.b.c"]) r.register(entry(s));
    expect(r.lookup("a.b.c")!.subject).toBe("a.b.c");
    expect(r.lookup("a.x.c")!.subject).toBe("a.*.c");
    expect(r.lookup("z.b.c")!.subject).toBe("*.b.c");
    expect(r.lookup("a.x")!.subject).toBe("a.*");
    expect(r.lookup("a.x.y.z")!.subject).toBe("a.>");
    expect(r.lookup("q")!.subject).toBe(">");
    expect(new SchemaRegistry().lookup("a")).toBeUndefined();
  });

  it("refuses an invalid pattern; re-registering replaces", () => {
    const r = new SchemaRegistry();
    expect(() => r.register(entry("a..b"))).toThrow(/empty token/);
    r.register(entry("a.*"));
    r.register({ ...entry("a.*"), description: "second" });
    expect(r.list().map((e) => e.description)).toEqual(["second"]);
  });

  it("issues are JSON Pointers with zod's messages", () => {
    const e = { subject: "x", schema: z.object({ "a/b": z.array(z.number()) }), source: "builtin" };
    expect(SchemaRegistry.issues(e, { "a/b": [1, "2"] })).toEqual([{ path: "/a~1b/1", message: "Invalid input: expected number, received string" }]);
    expect(jsonPointer([])).toBe("");
  });

  it("the built-in schemas accept the example events and document every field", () => {
    const r = new SchemaRegistry();
    for (const [subject, schema] of Object.entries(builtinSchemas)) r.register({ subject, schema, source: "builtin" });
    expect(SchemaRegistry.issues(r.lookup("transfer.completed")!, transferCompleted)).toEqual([]);
    expect(SchemaRegistry.issues(r.lookup("cluster.dev.nodeAdded")!, nodeAdded)).toEqual([]);
    expect(SchemaRegistry.issues(r.lookup("deployment.status")!, deploymentStatus)).toEqual([]);
    for (const e of r.list()) {
      const json = r.jsonSchema(e) as { properties: Record<string, { description?: string }> ; description?: string };
      expect(json.description, e.subject).toBeTruthy();
      for (const [name, prop] of Object.entries(json.properties)) expect(prop.description, `${e.subject}.${name}`).toBeTruthy();
    }
  });
});
