/**
 * Minimal reproduction for nats.js (upstream report): every successful `nc.request()`
 * resolved through the mux builds an Error: `RequestOne.resolver` (nats-core
 * lib/request.js) ends with `this.cancel()`, and `cancel()` rejects the already
 * resolved deferred with `new RequestError("cancelled")`, a stack trace nothing reads.
 * The cost, against one responder on a fresh nats-server, 32 in flight, in the
 * same run (noAsyncTraces on): N requests through nc.request as shipped, through
 * nc.request with `RequestOne.cancel` patched to skip the error when it was
 * called from the resolver (the fix this report suggests; nothing else differs),
 * and through one wildcard reply subscription and a token map (what the gateway
 * does for JetStream acks).
 * Usage: npx tsx bench/repro/nats-request-cancelled.ts [--requests 100000]
 */
import { connect } from "@nats-io/transport-node";
import { createInbox, type Msg } from "@nats-io/nats-core";
import { RequestOne } from "@nats-io/nats-core/internal";
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

  // The suggested fix: the resolver has settled the deferred; cancelling after it needs no error.
  type Cancel = (this: RequestOne, err?: Error) => void;
  const shipped = RequestOne.prototype.cancel as Cancel;
  const resolver = RequestOne.prototype.resolver;
  const patched: Cancel = function (this: RequestOne & { settled?: boolean; timer?: { cancel(): void }; mux: { cancel(r: RequestOne): void } }, err) {
    if (!this.settled) return shipped.call(this, err);
    this.timer?.cancel();
    this.mux.cancel(this);
  };
  const patchedResolver = function (this: RequestOne & { settled?: boolean }, err: Error | null, msg: Msg) {
    this.settled = true;
    return resolver.call(this, err, msg);
  };
  async function viaPatchedRequest(): Promise<number> {
    RequestOne.prototype.cancel = patched as RequestOne["cancel"];
    RequestOne.prototype.resolver = patchedResolver as RequestOne["resolver"];
    try {
      return await viaRequest();
    } finally {
      RequestOne.prototype.cancel = shipped as RequestOne["cancel"];
      RequestOne.prototype.resolver = resolver;
    }
  }

  await viaRequest();
  await viaPatchedRequest();
  await viaReplySubscription();
  for (let round = 0; round < 3; round++) {
    const a = await viaRequest();
    const p = await viaPatchedRequest();
    const b = await viaReplySubscription();
    console.log(
      `round ${round}: nc.request ${Math.round(a)} req/s | patched cancel ${Math.round(p)} req/s (${(p / a).toFixed(2)}x) | reply subscription ${Math.round(b)} req/s (${(b / a).toFixed(2)}x)`,
    );
  }
  await nc.close();
  await responder.close();
  await server.cleanup();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
