/** Which trace headers a webhook request carries on (W3C Trace Context and Baggage limits). */
import { describe, expect, it } from "vitest";
import { forwardableTraceHeaders, MAX_BAGGAGE_BYTES, MAX_TRACESTATE_CHARS } from "../../src/telemetry/tracing.js";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("forwardableTraceHeaders", () => {
  it("passes a valid traceparent with its tracestate and baggage, as they came", () => {
    expect(forwardableTraceHeaders({ traceparent: TP, tracestate: "a=1, b=2", baggage: "userId=alice,  tenant=acme", other: "x" })).toEqual({
      traceparent: TP,
      tracestate: "a=1, b=2",
      baggage: "userId=alice,  tenant=acme",
    });
    expect(forwardableTraceHeaders({ traceparent: TP.replace(/01$/, "ff") })).toEqual({ traceparent: TP.replace(/01$/, "ff") });
    // A later version may append fields.
    expect(forwardableTraceHeaders({ traceparent: `01-${TP.slice(3)}-extra` })).toEqual({ traceparent: `01-${TP.slice(3)}-extra` });
  });

  it.each([
    ["missing", undefined],
    ["version ff", `ff-${TP.slice(3)}`],
    ["all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
    ["all-zero span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"],
    ["upper case", TP.toUpperCase()],
    ["version 00 with more fields", `${TP}-extra`],
    ["short", TP.slice(0, -1)],
    ["huge", `01-${TP.slice(3)}-${"x".repeat(10_000)}`],
    ["carrying a non-ASCII extension", `01-${TP.slice(3)}-€`],
  ])("drops everything when traceparent is %s", (_why, traceparent) => {
    const headers: Record<string, string> = { tracestate: "a=1", baggage: "k=v" };
    if (traceparent !== undefined) headers.traceparent = traceparent;
    expect(forwardableTraceHeaders(headers)).toEqual({});
  });

  it("drops a tracestate or baggage over the W3C limits, keeping the rest", () => {
    const tracestate = "a=" + "x".repeat(MAX_TRACESTATE_CHARS - 2);
    const baggage = "k=" + "v".repeat(MAX_BAGGAGE_BYTES - 2);
    expect(forwardableTraceHeaders({ traceparent: TP, tracestate, baggage })).toEqual({ traceparent: TP, tracestate, baggage });
    expect(forwardableTraceHeaders({ traceparent: TP, tracestate: tracestate + "x", baggage: baggage + "v" })).toEqual({ traceparent: TP });
  });

  it("drops a tracestate or baggage Node would refuse to send (control or non-ASCII characters)", () => {
    expect(forwardableTraceHeaders({ traceparent: TP, baggage: "k=€" })).toEqual({ traceparent: TP });
    expect(forwardableTraceHeaders({ traceparent: TP, tracestate: "a=\u0001", baggage: "k=v\r\nx: y" })).toEqual({ traceparent: TP });
    expect(forwardableTraceHeaders({ traceparent: TP, baggage: "k=%E2%82%AC" })).toEqual({ traceparent: TP, baggage: "k=%E2%82%AC" });
  });
});
