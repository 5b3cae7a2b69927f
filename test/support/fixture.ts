/**
 * The usual integration setup in one call: a fresh nats-server, a gateway on a
 * free port, and a test NATS client with a JetStream manager — started in
 * `beforeAll`, all closed in `afterAll`.
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import type { ConfigInput } from "../../src/config/load.js";
import { startGateway, type TestGateway } from "./gateway.js";
import { NatsServer } from "./nats-server.js";
import { natsConnect } from "./nats.js";

/** What a suite gets; fields are set once `beforeAll` has run. */
export interface GatewayFixture {
  server: NatsServer;
  gw: TestGateway;
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/** Registers the hooks; `beforeGateway` runs against the server before the gateway starts. */
export function useGateway(
  config: ConfigInput = {},
  beforeGateway?: (f: Omit<GatewayFixture, "gw">) => Promise<void>,
): GatewayFixture {
  const f = {} as GatewayFixture;
  beforeAll(async () => {
    f.server = await NatsServer.start();
    f.nc = await natsConnect(f.server.url);
    f.jsm = await jetstreamManager(f.nc);
    await beforeGateway?.(f);
    f.gw = await startGateway(f.server.url, config);
  });
  afterAll(async () => {
    await f.gw?.close();
    await f.nc?.close();
    await f.server?.cleanup();
  });
  return f;
}

/** POSTs JSON (or any body) to `/v1/publish/{subject}` on the fixture's gateway. */
export function publishVia(gw: () => TestGateway) {
  return (subject: string, body: BodyInit | undefined, headers: Record<string, string> = {}) =>
    gw().fetch(`/v1/publish/${subject}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}
