import { describe, expect, it } from "vitest";
import type { NatsClient } from "../../src/nats/client.js";
import { StreamIndex } from "../../src/nats/stream-index.js";
import { planFeed } from "../../src/subscribe/feed.js";

const index = new StreamIndex();
index.set([
  { name: "EVENTS", subjects: ["transfer.>", "cluster.>"] },
  { name: "ORDERS", subjects: ["orders.*"] },
  { name: "KV_hooks", subjects: ["$KV.hooks.>"] },
]);
const nats = { streamIndex: index } as NatsClient;

describe("feed plan - which patterns read streams and which core NATS", () => {
  it("a pattern a stream covers reads that stream only", () => {
    expect(planFeed(["transfer.>"], nats)).toEqual({ core: [], streams: new Map([["EVENTS", ["transfer.>"]]]), partial: new Set() });
  });

  it("> reads core NATS and every overlapping stream, but never reserved ones (KV buckets)", () => {
    expect(planFeed([">"], nats)).toEqual({
      core: [">"],
      streams: new Map([
        ["EVENTS", [">"]],
        ["ORDERS", [">"]],
      ]),
      partial: new Set(["EVENTS", "ORDERS"]),
    });
  });

  it("*.completed overlaps EVENTS and ORDERS; a pattern overlapping nothing stays core", () => {
    expect(planFeed(["*.completed", "audit.>"], nats).streams).toEqual(
      new Map([
        ["EVENTS", ["*.completed"]],
        ["ORDERS", ["*.completed"]],
      ]),
    );
    expect(planFeed(["audit.>"], nats)).toEqual({ core: ["audit.>"], streams: new Map(), partial: new Set() });
  });

  it("a queue group stays on core NATS alone: an ordered consumer cannot share work", () => {
    expect(planFeed([">"], nats, "workers")).toEqual({ core: [">"], streams: new Map(), partial: new Set() });
  });
});
