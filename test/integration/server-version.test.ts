/** Which nats-server this leg runs: the machine's, or Debian trixie's 2.10 (vitest.config.ts). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NATS_210_BIN, natsServerVersion } from "../support/nats-server-2.10.js";
import { NatsServer, natsServerBinary } from "../support/nats-server.js";
import { natsConnect } from "../support/nats.js";
import { startGateway, type TestGateway } from "../support/gateway.js";

describe("nats-server under test", () => {
  let server: NatsServer;
  let gw: TestGateway;
  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url);
  });
  afterAll(async () => {
    await gw?.close();
    await server?.cleanup();
  });

  it("harness - the gateway talks to the binary this leg names, 2.10 on the 2.10 leg", async () => {
    const nc = await natsConnect(server.url);
    const version = nc.info!.version;
    await nc.close();
    expect(`v${version}`).toBe(natsServerVersion(natsServerBinary()));
    expect(gw.nats.serverVersion()).toBe(version);
    if (process.env.NATS_SERVER_BIN === NATS_210_BIN) expect(version).toMatch(/^2\.10\./);
  });
});
