/** NatsClient.close and drain while the first connection is still being made leave no connection behind (Workers close per request). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/logger.js";
import { NatsClient } from "../../src/nats/client.js";
import { nodeTransport } from "../../src/node/nats-transport.js";
import { NatsServer } from "../support/nats-server.js";

describe("NatsClient closed early", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    await server?.cleanup();
  });
  const totalConnections = async () => (await (await fetch(`${server.monitorUrl}/varz`)).json()).total_connections as number;
  const connections = async () => (await (await fetch(`${server.monitorUrl}/connz`)).json()).num_connections as number;

  it.each(["close", "drain"] as const)("client - %s before the first connect completes: the connection, once made, is closed", async (how) => {
    const before = await totalConnections();
    const config = parseConfig({ nats: { servers: [server.url], embedded: "never" } });
    const clients = [...Array(5)].map(() => NatsClient.start({ nats: config.nats, streams: [], logger: silentLogger, transport: nodeTransport, streamPolicy: "observe" }));
    await Promise.all(clients.map((c) => c[how]()));
    // Every connect lands on the server (it counts them), and each is closed as it does.
    await expect.poll(totalConnections, { timeout: 5_000 }).toBeGreaterThanOrEqual(before + 5);
    await expect.poll(connections, { timeout: 5_000 }).toBe(0);
    expect(clients.every((c) => !c.connected)).toBe(true);
  });
});
