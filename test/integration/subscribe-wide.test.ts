/**
 * Wildcard subscriptions that only partly overlap a stream (`*.created`, `>`):
 * the stream part is read through filters the server accepts, history and
 * resume never hold live events back, and a stream deleted or created again
 * under an open subscription loses nothing.
 */
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { useSseClients } from "../support/sse.js";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe("subscribe - wildcards that partly overlap a stream", () => {
  const f = useGateway({}, async ({ jsm }) => {
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
  });
  const open = useSseClients(() => f.gw.url);
  const js = () => jetstream(f.nc);

  it("sse - *.created with deliver=all replays orders.created, then core events flow at once (not held behind the replay)", async () => {
    await js().publish("orders.created", enc({ n: 1 }));
    await js().publish("orders.updated", enc({ n: 2 }));
    const c = open("subject=*.created&deliver=all");
    await c.next(1);
    f.nc.publish("shop.created", enc({ n: 3 }));
    await c.next(2, 2_000);
    expect(c.envelopes().map((e) => [e.subject, e.stream ?? null, e.seq ?? null])).toEqual([
      ["orders.created", "ORDERS", 1],
      ["shop.created", null, null],
    ]);
  });

  it("sse - *.created with deliver=last starts at the last orders.created, not the stream's last message", async () => {
    const c = open("subject=*.created&deliver=last");
    const [first] = await c.next(1);
    expect(JSON.parse(first!.data)).toMatchObject({ subject: "orders.created", seq: 1 });
    expect(first!.id).toBe("ORDERS:1");
  });

  it("sse - a stream deleted and created again under an open > loses nothing: its subjects come through core NATS", async () => {
    const c = open("subject=%3E");
    await c.opened;
    await js().publish("orders.before", enc({ n: "before" }));
    await expect.poll(() => c.envelopes().some((e) => e.subject === "orders.before")).toBe(true);
    const before = f.gw.nats.streamIndex.created("ORDERS");
    await f.jsm.streams.delete("ORDERS");
    await f.jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    // The gateway hears of the new stream through JetStream advisories.
    await expect.poll(() => [undefined, before].includes(f.gw.nats.streamIndex.created("ORDERS"))).toBe(false);
    await js().publish("orders.after", enc({ n: "after" }));
    f.nc.publish("plain.after", enc({ n: "core" }));
    await expect.poll(() => c.envelopes().map((e) => e.subject).filter((s) => s.endsWith(".after")).sort(), { timeout: 5_000 }).toEqual(["orders.after", "plain.after"]);
    const late = open("subject=%3E");
    await late.opened;
    await js().publish("orders.newcomer", enc({ n: "new" }));
    await expect.poll(() => late.envelopes().map((e) => e.subject), { timeout: 5_000 }).toEqual(["orders.newcomer"]);
  });

  it("sse - a stream widened under an open > and *.created: the new subjects still arrive (through core NATS)", async () => {
    const wide = open("subject=%3E");
    const created = open("subject=*.created");
    await Promise.all([wide.opened, created.opened]);
    await f.jsm.streams.update("ORDERS", { subjects: ["orders.>", "payments.>"] });
    await expect.poll(() => f.gw.nats.streamIndex.find("payments.created")).toBe("ORDERS");
    await js().publish("payments.created", enc({ n: "pay" }));
    await expect.poll(() => wide.envelopes().map((e) => e.subject).includes("payments.created"), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => created.envelopes().map((e) => e.subject), { timeout: 5_000 }).toEqual(["payments.created"]);
  });

  it("sse - overlapping or repeated core patterns deliver each message once", async () => {
    const twice = open("subject=x.*&subject=x.*");
    await twice.opened;
    const c = open("subject=x.*&subject=*.b&subject=x.*");
    await c.opened;
    for (const subject of ["x.b", "x.a", "y.b", "x.b"]) f.nc.publish(subject, enc({ subject }));
    await c.next(4);
    await f.nc.flush();
    expect(c.envelopes().map((e) => e.subject)).toEqual(["x.b", "x.a", "y.b", "x.b"]);
    expect(twice.envelopes().map((e) => e.subject)).toEqual(["x.b", "x.a", "x.b"]);
  });

  it("queue - a queue subscription is live only: deliver, since and Last-Event-ID are 400", async () => {
    for (const query of ["deliver=all", "since=2026-01-01T00%3A00%3A00Z", "lastEventId=ORDERS%3A1"]) {
      const res = await f.gw.fetch(`/v1/subscribe?subject=jobs.a&queue=w&${query}`);
      expect(res.status).toBe(400);
      expect((await res.json()).detail).toBe("a queue subscription is live only: it takes no deliver, since or Last-Event-ID");
    }
  });

  it("queue - members share the group's messages, on one gateway as across NATS; stream subjects too", async () => {
    const a = open("subject=jobs.*&queue=workers");
    const b = open("subject=jobs.*&queue=workers");
    const s1 = open("subject=orders.q&queue=workers");
    const s2 = open("subject=orders.q&queue=workers");
    await Promise.all([a.opened, b.opened, s1.opened, s2.opened]);
    for (let i = 0; i < 40; i++) f.nc.publish(`jobs.${i}`, enc({ i }));
    for (let i = 0; i < 40; i++) await js().publish("orders.q", enc({ i }));
    await expect.poll(() => a.envelopes().length + b.envelopes().length, { timeout: 5_000 }).toBe(40);
    await expect.poll(() => s1.envelopes().length + s2.envelopes().length, { timeout: 5_000 }).toBe(40);
    await f.nc.flush();
    expect(a.envelopes().length + b.envelopes().length).toBe(40);
    const all = [...a.envelopes(), ...b.envelopes()].map((e) => e.data.i).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // Random choice among two members: 40 messages all to one member is a 2^-39 chance.
    expect(a.envelopes().length).toBeGreaterThan(0);
    expect(b.envelopes().length).toBeGreaterThan(0);
    expect(s1.envelopes().length).toBeGreaterThan(0);
    expect(s2.envelopes().length).toBeGreaterThan(0);
  });
});
