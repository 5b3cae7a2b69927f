/**
 * Minimal reproduction for nats.js (upstream report): every successful `nc.request()`
 * resolved through the mux builds an Error: `RequestOne.resolver` (nats-core
 * lib/request.js) ends with `this.cancel()`, and `cancel()` rejects the already
 * resolved deferred with `new RequestError("cancelled")`, a stack trace nothing reads.
 * The cost, against one responder on a fresh nats-server: N requests through
 * nc.request vs the same through one wildcard reply subscription and a token map,
 * 32 in flight, in the same run (noAsyncTraces on for both).
 * Usage: npx tsx bench/repro/nats-request-cancelled.ts [--requests 100000]
 */
import { connect } from "@nats-io/transport-node";
import { createInbox, type Msg } from "@nats-io/nats-core";
import { NatsServer } from "../../test/support/nats-server.js";
import { benchArgs } from "../support.js";

const N = Number(benchArgs().get("requests") ?? 100_000);
const IN_FLIGHT = 32;

async function main() {
  const server = await NatsServer.start();
  const responder = await connect({ servers: server.url });
  responder.subscribe("echo", { callback: (_e, m) => void m.respond(m.data) });
  await responder.flush();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const data = new TextEncoder().encode("x");

  async function viaRequest(): Promise<number> {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < N) await nc.request("echo", data, { timeout: 5_000 });
    }));
    return (N / (performance.now() - t0)) * 1000;
  }

  const prefix = `${createInbox()}.`;
  const pending = new Map<string, () => void>();
  nc.subscribe(`${prefix}*`, { callback: (_e, m: Msg) => pending.get(m.subject.slice(prefix.length))?.() });
  let token = 0;
  async function viaReplySubscription(): Promise<number> {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < N) {
        const t = (token++).toString(36);
        await new Promise<void>((resolve) => {
          pending.set(t, () => (pending.delete(t), resolve()));
          nc.publish("echo", data, { reply: prefix + t });
        });
      }
    }));
    return (N / (performance.now() - t0)) * 1000;
  }

  await viaRequest();
  await viaReplySubscription();
  for (let round = 0; round < 2; round++) {
    const a = await viaRequest();
    const b = await viaReplySubscription();
    console.log(`round ${round}: nc.request ${Math.round(a)} req/s | reply subscription ${Math.round(b)} req/s | ratio ${(b / a).toFixed(2)}`);
  }
  await nc.close();
  await responder.close();
  await server.cleanup();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
