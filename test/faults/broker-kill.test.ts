/**
 * Fault: nats-server dies or freezes under publish load.
 * (a) SIGKILL, then started again on the same port with the same store: every
 *     201-acknowledged id is in the stream, /readyz says 503 during the outage and
 *     200 after, SSE clients resume with every stored event exactly once and in
 *     order, and a webhook receives every stored event.
 * (b) SIGSTOP for 8 s, then SIGCONT, under core-publish load: every 202 was
 *     received by a subscriber (a 202 means the server had it), nothing is answered
 *     202 while the server cannot answer, and /readyz notices within 5 s.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect, text } from "../support/nats.js";
import { startSink, type Sink } from "../support/sink.js";
import { pause, readStream, report, resumingSse, startGatewayProcess, until, workers, type GatewayChild, type ResumingSse } from "./harness.js";

const CONCURRENCY = 16;
const FREEZE_MS = 8_000;
/** How soon after /readyz is 200 again SSE clients must have every stored event. */
const SSE_RESUME_MS = 10_000;

describe("fault: nats-server killed and frozen under load", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let sink: Sink;
  let gw: GatewayChild;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await natsConnect(server.url);
    sink = await startSink();
    gw = await startGatewayProcess(
      {
        jetstream: { streams: [{ name: "BK", subjects: ["bk.>"], duplicateWindow: "2m" }] },
        webhooks: {
          allowPrivateNetworks: true,
          endpoints: [{ id: "bk", subjects: ["bk.>"], url: `${sink.url}/bk`, timeoutMs: 2_000, retry: { schedule: [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000] } }],
        },
      },
      server.url,
      { logLevel: "info", waitForLog: "webhooks ready" },
    );
  });
  afterAll(async () => {
    server?.thaw();
    await gw?.kill();
    await nc?.close().catch(() => {});
    await sink?.close();
    await server?.cleanup();
  });

  const readyz = async () => (await fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null))?.status ?? 0;

  it("SIGKILL: every 201 id is stored; readyz 503 then 200; SSE resumes exactly once in order; the webhook gets every event", async () => {
    const sse: ResumingSse[] = [
      resumingSse(`${gw.url}/v1/subscribe?subject=bk.%3E&deliver=all`),
      resumingSse(`${gw.url}/v1/subscribe?subject=bk.%3E&deliver=all`),
      resumingSse(`${gw.url}/v1/subscribe?subject=bk.*&deliver=all`),
    ];
    try {
      await Promise.all(sse.map((s) => s.opened));

      const attempted: string[] = [];
      const acked = new Map<string, number>();
      const statuses = new Map<number, number>();
      let next = 0;
      let phase: "before" | "down" | "after" = "before";
      let ackedAfter = 0;
      let stop = false;
      const load = workers(CONCURRENCY, async () => {
        while (!stop) {
          const id = `b-${next++}`;
          attempted.push(id);
          let status = 0;
          try {
            const res = await fetch(`${gw.url}/v1/publish/bk.${next % 4}`, {
              method: "POST",
              headers: { "content-type": "application/json", "idempotency-key": id },
              body: JSON.stringify({ id }),
              signal: AbortSignal.timeout(15_000),
            });
            status = res.status;
            const body = await res.json();
            if (status === 201) {
              acked.set(id, body.seq);
              if (phase === "after") ackedAfter++;
            }
          } catch {
            status = 0;
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          // A client backs off on 503/504 (Retry-After); no busy loop against a gateway that refuses.
          if (status !== 201) await pause(50);
        }
      });

      await until("500 acknowledged publishes", () => (acked.size >= 500 ? true : undefined), 30_000, 10);
      const ackedBeforeKill = acked.size;
      phase = "down";
      const killAt = Date.now();
      await server.kill();
      const down503 = await until("/readyz 503 after the kill", async () => ((await readyz()) === 503 ? Date.now() - killAt : undefined), 5_000);
      // Stay down a moment under load (publishes answer 503 meanwhile).
      await pause(1_500);
      const restartAt = Date.now();
      await server.restart();
      const up200 = await until("/readyz 200 after the restart", async () => ((await readyz()) === 200 ? Date.now() - restartAt : undefined), 30_000);
      phase = "after";
      await until("300 acknowledged publishes after the restart", () => (ackedAfter >= 300 ? true : undefined), 30_000, 10);
      stop = true;
      await load;

      const stored = await readStream(nc, "BK");
      const storedById = new Map(stored.map((m) => [m.id!, m.seq]));
      const lost = [...acked].filter(([id, seq]) => storedById.get(id) !== seq);
      const lastSeq = stored.at(-1)!.seq;
      const seqsOf = (s: ResumingSse) => s.events.map((e) => JSON.parse(e.data).seq as number);

      // Every SSE client reaches the end of the stream...
      // Live again means live: every SSE client has caught up within SSE_RESUME_MS of /readyz
      // saying 200. (Waited for longer, so that a late catch-up is still checked for gaps.)
      const readyAt = restartAt + up200;
      const caughtUp = () => (sse.every((s) => seqsOf(s).at(-1) === lastSeq) ? Date.now() - readyAt : undefined);
      const sseCaughtUpAfterReadyMs = await until("SSE clients caught up", caughtUp, SSE_RESUME_MS + 60_000).catch(() => -1);
      // ...and the webhook has every stored event.
      const expectedHookIds = stored.map((m) => `msg_BK_${m.seq}`);
      const hookIds = () => new Set(sink.on("/bk").map((r) => String(r.headers["webhook-id"])));
      await until("webhook received every stored event", () => (expectedHookIds.every((id) => hookIds().has(id)) ? true : undefined), 30_000).catch(() => {});

      const storedSeqs = stored.map((m) => m.seq);
      const sseNumbers = sse.map((s) => {
        const seqs = seqsOf(s);
        return { received: seqs.length, unique: new Set(seqs).size, reopens: s.reopens, inOrder: seqs.every((q, i) => i === 0 || q > seqs[i - 1]!) };
      });
      const hookRequests = sink.on("/bk").length;
      report("broker-kill", {
        attempted: attempted.length,
        acknowledged: acked.size,
        acknowledgedBeforeKill: ackedBeforeKill,
        stored: stored.length,
        acknowledgedMissing: lost.length,
        statuses: Object.fromEntries(statuses),
        readyz503AfterKillMs: down503,
        readyz200AfterRestartMs: up200,
        sseExpected: stored.length,
        sseCaughtUpAfterReadyMs,
        sse: sseNumbers,
        webhookExpected: expectedHookIds.length,
        webhookUnique: hookIds().size,
        webhookRequests: hookRequests,
        webhookDuplicates: hookRequests - hookIds().size,
      });

      expect(lost).toEqual([]);
      // Nothing stored twice, nothing stored that was never sent.
      expect(storedById.size).toBe(stored.length);
      expect(stored.filter((m) => m.id === undefined || !m.id.startsWith("b-"))).toEqual([]);
      // Only 201 (stored), 503 (NATS down) and 504 (outcome unknown) are answers a client may see here.
      expect([...statuses.keys()].filter((s) => ![201, 503, 504].includes(s))).toEqual([]);
      for (const [i, s] of sse.entries()) {
        expect(seqsOf(s), `SSE client ${i}`).toEqual(storedSeqs);
        expect(s.events.map((e) => e.id), `SSE client ${i} ids`).toEqual(storedSeqs.map((q) => `BK:${q}`));
      }
      expect(sseCaughtUpAfterReadyMs, `SSE clients caught up within ${SSE_RESUME_MS} ms of /readyz 200`).toBeGreaterThanOrEqual(0);
      expect(sseCaughtUpAfterReadyMs).toBeLessThanOrEqual(SSE_RESUME_MS);
      expect([...hookIds()].filter((id) => !expectedHookIds.includes(id))).toEqual([]);
      expect(expectedHookIds.filter((id) => !hookIds().has(id))).toEqual([]);
    } finally {
      for (const s of sse) s.close();
    }
  }, 180_000);

  it("SIGSTOP 8 s: no 202 for a publish the subscriber never got, none while frozen, readyz 503 within 5 s and 200 after thaw", async () => {
    await until("/readyz 200", async () => ((await readyz()) === 200 ? true : undefined), 30_000);
    const sub = await natsConnect(server.url);
    const received = new Set<string>();
    sub.subscribe("bkc.core", { callback: (_err, m) => void received.add(JSON.parse(text(m)).id) });
    await sub.flush();

    const results: { id: string; status: number; start: number; end: number }[] = [];
    let next = 0;
    let stop = false;
    const load = workers(CONCURRENCY, async () => {
      while (!stop) {
        const id = `c-${next++}`;
        const start = Date.now();
        let status = 0;
        try {
          const res = await fetch(`${gw.url}/v1/publish/bkc.core`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id }), signal: AbortSignal.timeout(15_000) });
          status = res.status;
          await res.arrayBuffer();
        } catch {
          status = 0;
        }
        results.push({ id, status, start, end: Date.now() });
        if (status !== 202) await pause(50);
      }
    });
    const probes: { at: number; status: number }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const at = Date.now();
        probes.push({ at, status: await readyz() });
        await pause(100);
      }
    })();

    let frozenAt = 0;
    let thawAt = 0;
    try {
      await until("some core publishes", () => (results.filter((r) => r.status === 202).length >= 200 ? true : undefined), 20_000, 10);
      await server.freeze();
      frozenAt = Date.now();
      await pause(FREEZE_MS);
    } finally {
      server.thaw();
      thawAt = Date.now();
    }
    const ready200AfterThaw = await until(
      "/readyz 200 after the thaw",
      () => {
        const p = probes.find((q) => q.at > thawAt && q.status === 200);
        return p ? p.at - thawAt : undefined;
      },
      30_000,
    ).catch(() => -1);
    const acceptedAfterThaw = () => results.filter((r) => r.status === 202 && r.start > thawAt).length;
    await until("core publishes accepted after the thaw", () => (acceptedAfterThaw() >= 100 ? true : undefined), 20_000, 10).catch(() => {});
    stop = true;
    probing = false;
    await load;
    await prober;

    const accepted = results.filter((r) => r.status === 202);
    await until("subscriber received every 202", () => (accepted.every((r) => received.has(r.id)) ? true : undefined), 10_000).catch(() => {});
    const missing = accepted.filter((r) => !received.has(r.id));
    // Answered while the server was stopped: it cannot have confirmed anything then.
    const frozenWindow = (t: number) => t > frozenAt + 200 && t < thawAt;
    const acceptedWhileFrozen = accepted.filter((r) => frozenWindow(r.end));
    const duringFreeze = results.filter((r) => r.start >= frozenAt && r.start < thawAt);
    const freezeStatuses: Record<number, number> = {};
    for (const r of duringFreeze) freezeStatuses[r.status] = (freezeStatuses[r.status] ?? 0) + 1;
    const first503 = probes.find((p) => p.at >= frozenAt && p.status !== 200);
    const readyz503AfterFreezeMs = first503 && first503.at < thawAt ? first503.at - frozenAt : -1;
    await sub.close();

    report("broker-freeze", {
      freezeMs: thawAt - frozenAt,
      requests: results.length,
      accepted202: accepted.length,
      received: received.size,
      accepted202NotReceived: missing.length,
      accepted202WhileFrozen: acceptedWhileFrozen.length,
      requestsStartedDuringFreeze: duringFreeze.length,
      statusesOfRequestsStartedDuringFreeze: freezeStatuses,
      readyz503AfterFreezeMs,
      readyz200AfterThawMs: ready200AfterThaw,
      acceptedAfterThaw: acceptedAfterThaw(),
    });

    expect(missing.map((r) => r.id), "202s the subscriber never received").toEqual([]);
    expect(acceptedWhileFrozen.length, "202s answered while nats-server was stopped").toBe(0);
    expect(Object.keys(freezeStatuses).map(Number).filter((s) => ![202, 503, 504].includes(s)), "statuses of requests sent during the freeze").toEqual([]);
    expect(readyz503AfterFreezeMs, "/readyz 503 within 5 s of the freeze").toBeGreaterThanOrEqual(0);
    expect(readyz503AfterFreezeMs).toBeLessThanOrEqual(5_000);
    expect(ready200AfterThaw, "/readyz 200 again after the thaw").toBeGreaterThanOrEqual(0);
    expect(acceptedAfterThaw()).toBeGreaterThanOrEqual(100);
  }, 90_000);
});
