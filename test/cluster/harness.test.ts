/** The cluster harness itself: three routed nodes, JetStream with a meta leader and an R3 stream read across nodes. */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsCluster } from "../support/nats-cluster.js";
import { natsConnect } from "../support/nats.js";

describe("NatsCluster", () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.cleanup();
  });

  it("cluster - three routed nodes take a stream with three replicas; a message published on one is read on another", async () => {
    const nc1 = await natsConnect(cluster.urls[0]!);
    const jsm = await jetstreamManager(nc1);
    const info = await jsm.streams.add({ name: "R3", subjects: ["r3.>"], num_replicas: 3 });
    expect(info.config.num_replicas).toBe(3);
    await expect.poll(async () => ((await jsm.streams.info("R3")).cluster?.replicas ?? []).filter((r) => r.current).length, { timeout: 10_000 }).toBe(2);
    const nc3 = await natsConnect(cluster.urls[2]!);
    // Stored on the R3 stream through node 1, read back through node 3.
    const ack = await jetstream(nc1).publish("r3.stored", "kept");
    expect((await (await jetstreamManager(nc3)).streams.getMessage("R3", { seq: ack.seq }))?.string()).toBe("kept");
    // Core delivery across routes: node 1 learns of node 3's subscription a moment after node 3
    // has it (the route propagates interest on its own time), so publish until it arrives.
    const got = new Promise<string>((resolve) => nc3.subscribe("r3.x", { max: 1, callback: (_e, m) => resolve(m.string()) }));
    await nc3.flush();
    const resend = setInterval(() => nc1.publish("r3.x", "hello"), 50);
    nc1.publish("r3.x", "hello");
    try {
      expect(await got).toBe("hello");
    } finally {
      clearInterval(resend);
    }
    await nc1.close();
    await nc3.close();
  });
});
