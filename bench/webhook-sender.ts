/**
 * Baseline for bench/webhooks.ts, run as its own process: the gateway's own
 * request builder and HTTP sender posting signed webhooks to the sink as fast
 * as `concurrency` allows, with no NATS in between. What the gateway adds on
 * top (JetStream consumer, acks, journal) is the difference.
 * Usage (by bench/webhooks.ts): tsx bench/webhook-sender.ts URL COUNT CONCURRENCY
 */
import { deliveryRequest } from "../src/webhooks/delivery-request.js";
import { HttpSender } from "../src/webhooks/http-send.js";
import { webhookSchema } from "../src/config/webhook.js";
import { SsrfGuard } from "../src/webhooks/ssrf.js";

const [url, count, concurrency] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const hook = { ...webhookSchema.parse({ subjects: ["bench.base"], url, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }), id: "baseline" };
const sender = new HttpSender(new SsrfGuard({ allowPrivateNetworks: true, allowlist: [] }));
let next = 0;
let failed = 0;
async function lane(): Promise<void> {
  while (next < count) {
    const i = next++;
    const env = { subject: "bench.base", data: { i, t: performance.timeOrigin + performance.now() }, stream: "BENCH", seq: i + 1, time: new Date().toISOString() };
    const r = await sender.send(deliveryRequest(hook, env, `msg_BENCH_${i + 1}`, Date.now()));
    if (r.status !== 200) failed++;
  }
}
await Promise.all(Array.from({ length: concurrency }, lane));
sender.close();
process.stdout.write(JSON.stringify({ failed }) + "\n");
