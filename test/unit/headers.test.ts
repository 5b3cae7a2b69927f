import { headers as natsHeaders } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { httpHeaderName, httpHeaderRecord, httpHeadersFromNats, natsHeaderName, natsHeadersFromHttp } from "../../src/nats/headers.js";

describe("headers - HTTP to NATS", () => {
  it.each([
    ["traceparent", "traceparent"],
    ["TraceParent", "traceparent"],
    ["tracestate", "tracestate"],
    ["baggage", "baggage"],
    ["Idempotency-Key", "Nats-Msg-Id"],
    ["idempotency-key", "Nats-Msg-Id"],
    ["NatsH-X-Tenant", "X-Tenant"],
    ["natsh-x-tenant", "X-Tenant"],
    ["natsh-region", "Region"],
    ["Content-Type", "Content-Type"],
    ["ce-id", "ce-id"],
    ["CE-Source", "ce-source"],
    ["natsh-", undefined],
    ["ce-", undefined],
    ["authorization", undefined],
    ["cookie", undefined],
    ["x-forwarded-for", undefined],
    ["host", undefined],
  ])("natsHeaderName(%j) is %j", (http, nats) => {
    expect(natsHeaderName(http)).toBe(nats);
  });

  it("natsHeadersFromHttp keeps repeated values, drops the rest, and sets the content type", () => {
    const h = natsHeadersFromHttp(
      [
        ["natsh-x-a", "1"],
        ["NatsH-X-A", "2"],
        ["authorization", "Bearer secret"],
        ["content-type", "text/ignored"],
        ["idempotency-key", "k"],
      ],
      "application/json",
    );
    expect(h.keys().sort()).toEqual(["Content-Type", "Nats-Msg-Id", "X-A"]);
    expect(h.values("X-A")).toEqual(["1", "2"]);
    expect(h.get("Content-Type")).toBe("application/json");
  });
});

describe("headers - NATS to HTTP (the reverse mapping)", () => {
  it.each([
    ["traceparent", "traceparent"],
    ["Nats-Msg-Id", "Idempotency-Key"],
    ["Content-Type", "Content-Type"],
    ["X-Tenant", "NatsH-X-Tenant"],
    ["ce-type", "ce-type"],
  ])("httpHeaderName(%j) is %j", (nats, http) => {
    expect(httpHeaderName(nats)).toBe(http);
  });

  it("round-trips: HTTP -> NATS -> HTTP gives the mapped names back", () => {
    const pairs: [string, string][] = [
      ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
      ["Idempotency-Key", "k1"],
      ["NatsH-X-Tenant", "acme"],
      ["ce-id", "e1"],
    ];
    const back = httpHeadersFromNats(natsHeadersFromHttp(pairs, "application/json"));
    expect(Object.fromEntries(back)).toEqual({
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "Idempotency-Key": "k1",
      "NatsH-X-Tenant": "acme",
      "ce-id": "e1",
      "Content-Type": "application/json",
    });
  });

  it("httpHeaderRecord is undefined without headers and joins repeated values", () => {
    expect(httpHeaderRecord(undefined)).toBeUndefined();
    expect(httpHeaderRecord(natsHeaders())).toBeUndefined();
    const h = natsHeaders();
    h.append("X-A", "1");
    h.append("X-A", "2");
    expect(httpHeaderRecord(h)).toEqual({ "NatsH-X-A": "1, 2" });
  });
});

describe("headers - the reused Content-Type block", () => {
  // nats.js calls encode() on the headers it sends; MsgHdrs does not declare it.
  const encode = (h: unknown) => (h as { encode(): Uint8Array }).encode();
  const wire = (h: unknown) => new TextDecoder().decode(encode(h));

  it("encodes a Content-Type-only block as nats.js does, and shares it between messages", () => {
    const a = natsHeadersFromHttp([], "application/json");
    const b = natsHeadersFromHttp([["authorization", "Bearer x"]], "application/json");
    const plain = natsHeaders();
    plain.set("Content-Type", "application/json");
    expect(wire(a)).toBe(wire(plain));
    expect(wire(a)).toBe("NATS/1.0\r\nContent-Type: application/json\r\n\r\n");
    expect(encode(b)).toBe(encode(a));
  });

  it("a header added after the first encode (trace context, an expectation) is on the wire", () => {
    const h = natsHeadersFromHttp([], "text/plain");
    encode(h);
    h.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(wire(h)).toBe("NATS/1.0\r\nContent-Type: text/plain\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n");
    const twice = natsHeadersFromHttp([], "text/plain");
    twice.append("Content-Type", "text/html");
    expect(wire(twice)).toBe("NATS/1.0\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\n");
  });

  it("many distinct content types are each encoded correctly (past the cache's bound)", () => {
    for (let i = 0; i < 200; i++) {
      expect(wire(natsHeadersFromHttp([], `application/x-${i}`))).toBe(`NATS/1.0\r\nContent-Type: application/x-${i}\r\n\r\n`);
    }
  });
});
