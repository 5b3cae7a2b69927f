import { describe, expect, it } from "vitest";
import { assertBinaryMode, fromStructured } from "../../src/events/cloudevents.js";
import { BadRequestError } from "../../src/errors.js";

const base = { specversion: "1.0", id: "e1", source: "/s", type: "t" };
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function thrown(fn: () => unknown): BadRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadRequestError) return err;
    throw err;
  }
  throw new Error("expected a BadRequestError");
}

describe("cloudevents - structured mode", () => {
  it("JSON data becomes the payload; attributes become ce-* pairs; datacontenttype the content type", () => {
    const parts = fromStructured({ ...base, time: "2026-11-24T20:00:00Z", count: 3, flag: true, data: { a: 1 } });
    expect(parts.attributes).toEqual([
      ["ce-specversion", "1.0"],
      ["ce-id", "e1"],
      ["ce-source", "/s"],
      ["ce-type", "t"],
      ["ce-time", "2026-11-24T20:00:00Z"],
      ["ce-count", "3"],
      ["ce-flag", "true"],
    ]);
    expect(parts.contentType).toBe("application/json");
    expect(decode(parts.payload)).toBe('{"a":1}');
    expect(parts.json).toEqual({ value: { a: 1 } });
  });

  it("data_base64 is decoded; text data is kept as text", () => {
    const bin = fromStructured({ ...base, datacontenttype: "application/octet-stream", data_base64: Buffer.from([1, 2, 3]).toString("base64") });
    expect([...bin.payload]).toEqual([1, 2, 3]);
    expect(bin.json).toBeUndefined();
    const txt = fromStructured({ ...base, datacontenttype: "text/plain", data: "hello" });
    expect(decode(txt.payload)).toBe("hello");
    expect(txt.contentType).toBe("text/plain");
    expect(fromStructured(base).payload.byteLength).toBe(0);
  });

  it.each([
    [[], ["", "a structured CloudEvent must be a JSON object"]],
    [{ ...base, specversion: "0.3" }, ["/specversion", "unsupported specversion 0.3; expected 1.0"]],
    [{ ...base, id: "" }, ["/id", "required attribute id is missing or empty"]],
    [{ specversion: "1.0", source: "/s", type: "t" }, ["/id", "required attribute id is missing or empty"]],
    [{ ...base, "Bad-Name": "x" }, ["/Bad-Name", "attribute names are 1-64 lowercase letters or digits"]],
    [{ ...base, nested: { a: 1 } }, ["/nested", "attribute values must be strings, numbers or booleans"]],
    [{ ...base, data: 1, data_base64: "AQ==" }, ["/data_base64", "data and data_base64 are mutually exclusive"]],
    [{ ...base, datacontenttype: "text/plain", data: { a: 1 } }, ["/data", "data must be a string for datacontenttype text/plain"]],
  ])("invalid event %j is a 400 naming %j", (event, [path, message]) => {
    const err = thrown(() => fromStructured(event));
    expect(err.status).toBe(400);
    expect(err.issues).toContainEqual({ path, message });
  });
});

describe("cloudevents - binary mode", () => {
  it("requires ce-specversion, ce-id, ce-source and ce-type", () => {
    expect(() => assertBinaryMode(new Headers({ "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t" }))).not.toThrow();
    const err = thrown(() => assertBinaryMode(new Headers({ "ce-specversion": "1.0", "ce-type": "t" })));
    expect(err.issues).toEqual([
      { path: "ce-id", message: "required attribute id is missing or empty" },
      { path: "ce-source", message: "required attribute source is missing or empty" },
    ]);
  });
});
