/**
 * /readyz after a single server comes back without what the configured streams
 * need (issue 14 review): the gateway is ready at once after a reconnect on the
 * word of its last stream check, but a definite failure of the new check ends that.
 */
import { describe, expect, it } from "vitest";
import { startGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";

describe("readiness when the server comes back unable to hold the streams", () => {
  it.each([
    ["without JetStream", { jetstream: false }],
    ["with too little store for the stream", { config: "jetstream { max_file_store: 1MB }" }],
  ] as const)("readyz - a server restarted %s: /readyz 503 (and stays so), stream publishes 503", async (_what, restart) => {
    const server = await NatsServer.start();
    const gw = await startGateway(server.url, { jetstream: { streams: [{ name: "RDY", subjects: ["rdy.>"], maxBytes: 50_000_000 }] } });
    const port = server.port;
    let next: NatsServer | undefined;
    try {
      expect((await gw.fetch("/readyz")).status).toBe(200);
      const metric = async (name: string) => new RegExp(`^${name} (\\d+)$`, "m").exec(await gw.app.metrics.text())?.[1];
      expect([await metric("natsgate_nats_connected"), await metric("natsgate_nats_reconnects_total")]).toEqual(["1", "0"]);
      await server.cleanup();
      await expect.poll(async () => (await gw.fetch("/readyz")).status).toBe(503);
      expect(await metric("natsgate_nats_connected")).toBe("0");
      next = await NatsServer.start({ port, ...restart });
      await expect.poll(() => gw.nats.connected, { timeout: 10_000 }).toBe(true);
      // What the "NATS disconnected" and "reconnect storm" alerts read.
      expect([await metric("natsgate_nats_connected"), await metric("natsgate_nats_reconnects_total")]).toEqual(["1", "1"]);
      await expect.poll(async () => (await gw.fetch("/readyz")).status, { timeout: 10_000 }).toBe(503);
      const ready = await (await gw.fetch("/readyz")).json();
      expect(ready.detail).toBe("configured JetStream streams are not in place yet");
      expect((await gw.fetch("/v1/publish/rdy.x", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(503);
      // And it stays so through the next checks.
      await new Promise((r) => setTimeout(r, 2_500));
      expect((await gw.fetch("/readyz")).status).toBe(503);
    } finally {
      await gw.close();
      await next?.cleanup();
      await server.cleanup();
    }
  }, 30_000);
});
