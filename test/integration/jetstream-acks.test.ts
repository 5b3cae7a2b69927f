/** JetStreamAcks against a real nats-server: acks, API errors, nobody answering, no answer in time, a closed connection. */
import { headers as natsHeaders, errors as natsErrors, type NatsConnection } from "@nats-io/nats-core";
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamAcks } from "../../src/nats/acks.js";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect } from "../support/nats.js";

describe("JetStreamAcks", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let acks: JetStreamAcks;
  const body = new TextEncoder().encode('{"n":1}');
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "ACKS", subjects: ["acks.>"] });
    acks = new JetStreamAcks(nc, 300);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  it("acks - every publish gets its own stream sequence, in a pipeline; a repeated Nats-Msg-Id is a duplicate", async () => {
    const h = () => natsHeaders();
    const got = await Promise.all(Array.from({ length: 200 }, (_, i) => acks.publish(`acks.${i}`, body, h())));
    expect(got.map((a) => a.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(got.every((a) => a.stream === "ACKS" && a.duplicate === false)).toBe(true);
    const once = natsHeaders();
    once.set("Nats-Msg-Id", "m-1");
    const first = await acks.publish("acks.dup", body, once);
    const again = natsHeaders();
    again.set("Nats-Msg-Id", "m-1");
    expect(await acks.publish("acks.dup", body, again)).toEqual({ stream: "ACKS", seq: first.seq, duplicate: true, domain: undefined });
    expect(acks.size).toBe(0);
  });

  it("errors - a refused expectation is the stream's API error, with its code", async () => {
    const h = natsHeaders();
    h.set("Nats-Expected-Last-Sequence", "1");
    const err = await acks.publish("acks.x", body, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect((err as JetStreamApiError).code).toBe(10071);
  });

  it("no responders - a subject no stream takes answers at once with NoRespondersError", async () => {
    const t0 = performance.now();
    await expect(acks.publish("nostream.x", body, natsHeaders())).rejects.toBeInstanceOf(natsErrors.NoRespondersError);
    expect(performance.now() - t0).toBeLessThan(300);
  });

  it("timeout - a responder that never answers fails the publish after the timeout, and only that one", async () => {
    const silent = nc.subscribe("quiet.x", { callback: () => {} });
    const answering = nc.subscribe("answered.x", { callback: (_e, m) => void m.respond(JSON.stringify({ stream: "FAKE", seq: 7 })) });
    await nc.flush();
    const t0 = performance.now();
    const [quiet, answered] = await Promise.allSettled([acks.publish("quiet.x", body, natsHeaders()), acks.publish("answered.x", body, natsHeaders())]);
    expect(quiet.status === "rejected" && quiet.reason).toBeInstanceOf(natsErrors.TimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(answered).toEqual({ status: "fulfilled", value: { stream: "FAKE", seq: 7, duplicate: false, domain: undefined } });
    silent.unsubscribe();
    answering.unsubscribe();
    expect(acks.size).toBe(0);
  });

  it("closed - a connection that closes fails what is pending and refuses new publishes", async () => {
    const own = await natsConnect(server.url);
    const mine = new JetStreamAcks(own, 5_000);
    const quiet = own.subscribe("quiet.y", { callback: () => {} });
    await own.flush();
    const pending = mine.publish("quiet.y", body, natsHeaders());
    await own.close();
    await expect(pending).rejects.toBeInstanceOf(natsErrors.ClosedConnectionError);
    await expect(mine.publish("acks.z", body, natsHeaders())).rejects.toBeInstanceOf(natsErrors.ClosedConnectionError);
    quiet.unsubscribe();
  });
});
