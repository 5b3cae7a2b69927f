import { describe, expect, it } from "vitest";
import type { NatsClient } from "../../src/nats/client.js";
import { StreamIndex } from "../../src/nats/stream-index.js";
import { planFeed, supportsMultiFilter } from "../../src/subscribe/feed-plan.js";

const index = new StreamIndex();
index.set([
  { name: "EVENTS", subjects: ["transfer.>", "cluster.>"], created: "2026-11-01T00:00:00Z" },
  { name: "ORDERS", subjects: ["orders.*"], created: "2026-11-02T00:00:00Z" },
  { name: "KV_hooks", subjects: ["$KV.hooks.>"], created: "2026-11-03T00:00:00Z" },
]);
const nats = { streamIndex: index } as NatsClient;

describe("feed plan - which patterns read streams and which core NATS", () => {
  it("a pattern a stream covers reads that stream only", () => {
    expect(planFeed(["transfer.>"], nats)).toEqual({ core: [], streams: new Map([["EVENTS", ["transfer.>"]]]), partial: new Map() });
  });

  it("> reads core NATS and every overlapping stream through filters the server accepts, never reserved streams", () => {
    expect(planFeed([">"], nats)).toEqual({
      core: [">"],
      streams: new Map([
        ["EVENTS", ["transfer.>", "cluster.>"]],
        ["ORDERS", ["orders.*"]],
      ]),
      partial: new Map([
        ["EVENTS", "2026-11-01T00:00:00Z"],
        ["ORDERS", "2026-11-02T00:00:00Z"],
      ]),
    });
  });

  it("*.created reads only the .created subjects of each stream; a pattern overlapping nothing stays core", () => {
    expect(planFeed(["*.created"], nats).streams).toEqual(
      new Map([
        ["EVENTS", ["transfer.created", "cluster.created"]],
        ["ORDERS", ["orders.created"]],
      ]),
    );
    expect(planFeed(["*.*.nodeAdded", "transfer.completed"], nats).streams).toEqual(new Map([["EVENTS", ["transfer.*.nodeAdded", "cluster.*.nodeAdded", "transfer.completed"]]]));
    expect(planFeed(["audit.>"], nats)).toEqual({ core: ["audit.>"], streams: new Map(), partial: new Map() });
  });

  it("filters one consumer would get twice are merged (nats-server 2.10 refuses overlapping filters)", () => {
    expect(planFeed(["transfer.completed", "transfer.>"], nats).streams).toEqual(new Map([["EVENTS", ["transfer.>"]]]));
    expect(planFeed(["orders.*", "*.created"], nats).streams).toEqual(
      new Map([
        ["ORDERS", ["orders.*"]],
        ["EVENTS", ["transfer.created", "cluster.created"]],
      ]),
    );
  });

  it("a queue group stays on core NATS alone: an ordered consumer cannot share work", () => {
    expect(planFeed([">"], nats, "workers")).toEqual({ core: [">"], streams: new Map(), partial: new Map() });
    expect(planFeed(["transfer.>"], nats, "workers")).toEqual({ core: ["transfer.>"], streams: new Map(), partial: new Map() });
  });
});

describe("supportsMultiFilter - several filter_subjects on one consumer from nats-server 2.10", () => {
  it.each([
    ["2.9.10", false],
    ["2.9.25", false],
    ["2.10.0", true],
    ["2.10.27", true],
    ["2.11.4", true],
    ["3.0.0", true],
    ["1.4.1", false],
    [undefined, false],
  ])("%s -> %s", (version, expected) => {
    expect(supportsMultiFilter(version)).toBe(expected);
  });
});
