import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { transferCompleted } from "../fixtures/events.js";

/** Subjects: known ones, NATS-ish token soup, and arbitrary Unicode. */
const subject = fc.oneof(
  fc.constantFrom("transfer.completed", "cluster.dev.nodeAdded", "deploy.request", "orders.created", "$SYS.x", "_INBOX.y"),
  fc.stringMatching(/^[a-zA-Z0-9.*>$_ \t%-]{0,24}$/),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
);

/** Path segment: properly encoded, or with a stray/undecodable percent sign. */
const pathSegment = fc.tuple(subject, fc.boolean()).map(([s, mangle]) => {
  const encoded = encodeURIComponent(s);
  return mangle ? encoded.replaceAll("%25", "%").replace(/^$/, "%") : encoded;
});

const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);

const body = fc.oneof(
  fc.json().map((j) => new TextEncoder().encode(j)),
  fc.constant(new TextEncoder().encode(JSON.stringify(transferCompleted))),
  fc.record({ specversion: fc.constantFrom("1.0", "0.3"), id: printable, source: printable, type: printable, data: fc.jsonValue() }).map((ce) =>
    new TextEncoder().encode(JSON.stringify(ce)),
  ),
  fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
  fc.uint8Array({ maxLength: 200 }),
);

const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/cloudevents+json",
  "application/cloudevents-batch+json",
  "application/vnd.acme+json",
  "text/plain",
  "application/octet-stream",
  "application/x-ndjson",
  "multipart/form-data; boundary=x",
);

const extraHeaders = fc.record(
  {
    "Idempotency-Key": printable,
    "Expect-Stream": printable,
    "Expect-Last-Sequence": fc.oneof(printable, fc.nat().map(String)),
    "ce-specversion": fc.constantFrom("1.0", ""),
    "NatsH-X-Random": printable,
    traceparent: printable,
  },
  { requiredKeys: [] },
);

describe("property: no 5xx while NATS is up", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["transfer.>", "cluster.>", "deploy.>"] }] } });

  const assertNoServerError = async (res: Response) => {
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = await res.json();
      expect(problem.status).toBe(res.status);
      expect(typeof problem.detail).toBe("string");
    } else {
      await res.arrayBuffer();
    }
  };

  it("property - random subjects, bodies, content types and headers never produce a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(pathSegment, body, contentType, extraHeaders, async (segment, payload, type, headers) => {
        const h: Record<string, string> = { ...headers };
        if (type) h["content-type"] = type;
        const res = await f.gw.fetch(`/v1/publish/${segment}`, { method: "POST", body: payload, headers: h });
        await assertNoServerError(res);
      }),
      { numRuns: 400 },
    );
  });

  it("property - random batches never produce a 5xx, and every item gets a result", async () => {
    const item = fc.oneof(
      fc.record({ subject, data: fc.jsonValue(), headers: fc.option(fc.dictionary(printable, printable, { maxKeys: 3 }), { nil: undefined }) }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 20 }), fc.constantFrom("application/x-ndjson", "application/json"), async (items, type) => {
        const text = type === "application/json" ? JSON.stringify(items) : items.map((i) => JSON.stringify(i) ?? "null").join("\n");
        const res = await f.gw.fetch("/v1/publish", { method: "POST", body: text, headers: { "content-type": type } });
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) {
          const { results } = await res.json();
          expect(results).toHaveLength(items.length);
          for (const r of results) expect(r.status).toBeLessThan(500);
        } else {
          await res.arrayBuffer();
        }
      }),
      { numRuns: 150 },
    );
  });
});
