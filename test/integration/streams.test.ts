import { nanos } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";

describe("streams", () => {
  const f = useGateway(
    {
      jetstream: {
        streams: [
          { name: "EVENTS", subjects: ["old.>", "transfer.>"], maxAge: "1h" },
          { name: "AUDIT", subjects: ["audit.>"], storage: "memory", maxMsgs: 1000 },
        ],
      },
    },
    // An operator created EVENTS earlier with fewer subjects.
    async ({ jsm }) => void (await jsm.streams.add({ name: "EVENTS", subjects: ["old.>"] })),
  );
  const post = publishVia(() => f.gw);
  const publish = (subject: string) => post(subject, "{}");

  it("streams - configured streams are created, and existing ones updated, at start", async () => {
    const events = await f.jsm.streams.info("EVENTS");
    expect(events.config.subjects).toEqual(["old.>", "transfer.>"]);
    expect(events.config.max_age).toBe(nanos(3_600_000));
    const audit = await f.jsm.streams.info("AUDIT");
    expect(audit.config).toMatchObject({ subjects: ["audit.>"], storage: "memory", max_msgs: 1000 });
    expect(await (await publish("transfer.x")).json()).toMatchObject({ stream: "EVENTS" });
    expect(await (await publish("audit.y")).json()).toMatchObject({ stream: "AUDIT" });
  });

  it("streams - a stream created or deleted later is noticed through JetStream advisories", async () => {
    expect((await publish("late.x")).status).toBe(202);
    // A 202 means handed to the connection; make sure it reached the server before the stream
    // exists, or the stream could capture it and shift the sequence asserted below.
    await f.gw.nats.connection().flush();
    await f.jsm.streams.add({ name: "LATE", subjects: ["late.>"] });
    await expect.poll(() => f.gw.nats.streamIndex.find("late.x"), { timeout: 5_000, interval: 10 }).toBe("LATE");
    const stored = await publish("late.x");
    expect(stored.status).toBe(201);
    expect(await stored.json()).toEqual({ subject: "late.x", stream: "LATE", seq: 1, duplicate: false });

    await f.jsm.streams.delete("LATE");
    await expect.poll(() => f.gw.nats.streamIndex.find("late.x"), { timeout: 5_000, interval: 10 }).toBeUndefined();
    expect((await publish("late.x")).status).toBe(202);
  });

  it("streams - a stream gone behind the gateway's back (its index not yet told) is 503 on publish, not a hang or a false ack", async () => {
    const index = f.gw.nats.streamIndex;
    // The moment between a stream's deletion and its advisory, held open: the index still names GHOST.
    index.set([
      { name: "EVENTS", subjects: ["old.>", "transfer.>"] },
      { name: "AUDIT", subjects: ["audit.>"] },
      { name: "GHOST", subjects: ["ghost.>"] },
    ]);
    try {
      const started = Date.now();
      const res = await publish("ghost.x");
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({ status: 503, detail: "no JetStream stream answered for ghost.x" });
      // No responders is told at once: it is not the ack timeout.
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await index.refresh(f.jsm);
    }
    expect(index.find("ghost.x")).toBeUndefined();
    expect((await publish("ghost.x")).status).toBe(202);
  });
});
