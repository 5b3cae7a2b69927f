/**
 * Several subjects of one stream on one subscription: on nats-server 2.10+ one
 * ordered consumer with several filter_subjects; on 2.9 (one filter per
 * consumer) the stream read unfiltered and matched in the gateway. Either way
 * the client sees exactly its subjects, in stream order, and resumes from its cursor.
 */
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { supportsMultiFilter } from "../../src/subscribe/feed-plan.js";
import { useGateway } from "../support/fixture.js";
import { useSseClients } from "../support/sse.js";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe("subscribe - several subjects of one stream", () => {
  const f = useGateway({}, async ({ jsm }) => {
    await jsm.streams.add({ name: "MF", subjects: ["mf.>"] });
  });
  const open = useSseClients(() => f.gw.url);
  const multiFilter = () => supportsMultiFilter(f.gw.nats.serverVersion());
  /** The filters of the gateway's consumers on MF, as the server reports them. */
  const serverFilters = async () => {
    const filters: string[][] = [];
    for await (const ci of f.jsm.consumers.list("MF")) filters.push(ci.config.filter_subjects ?? (ci.config.filter_subject ? [ci.config.filter_subject] : []));
    return filters;
  };

  it("sse - mf.a and mf.b: exactly those, in stream order; the server filters on 2.10+, the gateway on 2.9", async () => {
    const js = jetstream(f.nc);
    for (const s of ["mf.a", "mf.c", "mf.b", "mf.a", "mf.c"]) await js.publish(s, enc({ s }));
    const c = open("subject=mf.a&subject=mf.b&deliver=all");
    await c.next(3);
    expect(c.envelopes().map((e) => [e.subject, e.seq])).toEqual([
      ["mf.a", 1],
      ["mf.b", 3],
      ["mf.a", 4],
    ]);
    expect(await serverFilters()).toEqual([multiFilter() ? ["mf.a", "mf.b"] : []]);

    // Resume after seq 3 on a new stream: only what follows it, live ones included.
    const resumed = open("subject=mf.a&subject=mf.b", { "last-event-id": "MF:3" });
    await resumed.next(1);
    await js.publish("mf.b", enc({ s: "live" }));
    await resumed.next(2);
    expect(resumed.envelopes().map((e) => [e.subject, e.seq])).toEqual([
      ["mf.a", 4],
      ["mf.b", 6],
    ]);
  });

  it("sse - overlapping patterns (mf.*.x and mf.a.*) are never sent to the server together; each event once", async () => {
    const js = jetstream(f.nc);
    const before = (await f.jsm.streams.info("MF")).state.last_seq;
    for (const s of ["mf.a.x", "mf.b.x", "mf.a.y", "mf.c.z"]) await js.publish(s, enc({ s }));
    const c = open(`subject=mf.*.x&subject=mf.a.*`, { "last-event-id": `MF:${before}` });
    await c.next(3);
    expect(c.envelopes().map((e) => e.subject)).toEqual(["mf.a.x", "mf.b.x", "mf.a.y"]);
    expect((await serverFilters()).every((f) => f.length === 0)).toBe(true);
  });
});
