/**
 * Fault: the gateway process is SIGKILLed under 16-way JetStream publish load.
 * Every id it answered 201 for is in the stream, at the sequence it answered; after
 * a restart, retrying the unanswered ids with the same Idempotency-Key stores each
 * exactly once (the stream de-duplicates the ones that had made it).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect } from "../support/nats.js";
import { readStream, report, startGatewayProcess, workers, type GatewayChild } from "./harness.js";

const CONCURRENCY = 16;
/** Kill once this many publishes were acknowledged (load well under way). */
const KILL_AFTER_ACKS = 1_500;
const CONFIG = { jetstream: { streams: [{ name: "KILL", subjects: ["kill.>"], duplicateWindow: "2m" }] } };

describe("fault: SIGKILL of the gateway under JetStream publish load", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const gateways: GatewayChild[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
  });
  afterAll(async () => {
    for (const g of gateways) await g.kill();
    await nc?.close();
    await server?.cleanup();
  });

  it("every 201-acknowledged id is in the stream at its acknowledged seq; retries with the same key store the rest once", async () => {
    const first = await startGatewayProcess(CONFIG, server.url);
    gateways.push(first);
    const publish = (url: string, id: string) =>
      fetch(`${url}/v1/publish/kill.${Number(id.slice(2)) % 8}`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": id },
        body: JSON.stringify({ id }),
        signal: AbortSignal.timeout(15_000),
      });

    const attempted: string[] = [];
    const acked = new Map<string, number>();
    const otherStatus = new Map<number, number>();
    let failed = 0;
    let next = 0;
    let killed = false;
    const loadStart = Date.now();
    let killedAt = 0;
    // Each worker keeps publishing until one of its requests fails: the kill lands with all 16 in flight.
    const load = workers(CONCURRENCY, async () => {
      for (;;) {
        const id = `k-${next++}`;
        attempted.push(id);
        try {
          const res = await publish(first.url, id);
          const body = await res.json();
          if (res.status === 201) {
            expect(body).toMatchObject({ subject: expect.stringMatching(/^kill\.\d$/), stream: "KILL", duplicate: false });
            acked.set(id, body.seq);
          } else otherStatus.set(res.status, (otherStatus.get(res.status) ?? 0) + 1);
        } catch {
          failed++;
          if (killed) return;
        }
        if (!killed && acked.size >= KILL_AFTER_ACKS) {
          killed = true;
          killedAt = Date.now();
          first.proc.child.kill("SIGKILL");
        }
      }
    });
    await load;
    expect(await first.proc.exited).toEqual({ code: null, signal: "SIGKILL" });
    const ackedAtKill = acked.size;

    // What the stream holds right after the kill.
    const afterKill = await readStream(nc, "KILL");
    const storedIds = new Map(afterKill.map((m) => [m.id!, m.seq]));
    const lost = [...acked].filter(([id, seq]) => storedIds.get(id) !== seq);
    const unanswered = attempted.filter((id) => !acked.has(id));
    const storedUnanswered = unanswered.filter((id) => storedIds.has(id));

    // A new gateway; the client retries every unanswered id with the same key.
    const second = await startGatewayProcess(CONFIG, server.url);
    gateways.push(second);
    const retried = { duplicate: 0, fresh: 0 };
    await workers(CONCURRENCY, async (w) => {
      for (let i = w; i < unanswered.length; i += CONCURRENCY) {
        const id = unanswered[i]!;
        const res = await publish(second.url, id);
        expect(res.status, id).toBe(201);
        const body = await res.json();
        expect(body.duplicate, id).toBe(storedIds.has(id));
        if (storedIds.has(id)) expect(body.seq, id).toBe(storedIds.get(id));
        body.duplicate ? retried.duplicate++ : retried.fresh++;
      }
    });
    const final = await readStream(nc, "KILL");

    report("gateway-kill", {
      attempted: attempted.length,
      acknowledged: ackedAtKill,
      storedAfterKill: afterKill.length,
      acknowledgedMissing: lost.length,
      unansweredAtKill: unanswered.length,
      unansweredButStored: storedUnanswered.length,
      clientErrors: failed,
      otherStatuses: Object.fromEntries(otherStatus),
      retriedDuplicate: retried.duplicate,
      retriedFresh: retried.fresh,
      storedFinal: final.length,
      loadMsBeforeKill: killedAt - loadStart,
    });

    expect(lost).toEqual([]);
    expect(otherStatus.size).toBe(0);
    // Nothing stored that was never sent, nothing stored twice.
    expect(afterKill.every((m) => m.id !== undefined && attempted.includes(m.id))).toBe(true);
    expect(new Set(afterKill.map((m) => m.id)).size).toBe(afterKill.length);
    // After the retries: exactly the attempted ids, each once.
    expect(final.map((m) => m.id).sort()).toEqual([...attempted].sort());
    expect(final.length).toBe(attempted.length);
  }, 90_000);
});
