import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/load.js";
import { createTestPki, type TestPki } from "../support/certs.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { createOperatorSetup } from "../support/nats-operator.js";

/** The gateway's NATS connection with each credential type, against a server that demands it. */
describe("NATS credentials and TLS", () => {
  let pki: TestPki;
  const open: { server: NatsServer; gw?: TestGateway }[] = [];

  beforeAll(() => {
    pki = createTestPki();
  });

  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.gw?.close();
      await o.server.cleanup();
    }
  });

  /** Starts a server with `serverConfig`, a gateway with `nats`, and publishes once through it. */
  async function publishThrough(serverConfig: string, nats: ConfigInput["nats"], scheme = "nats"): Promise<number> {
    const server = await NatsServer.start({ config: serverConfig });
    const entry: { server: NatsServer; gw?: TestGateway } = { server };
    open.push(entry);
    entry.gw = await startGateway(server.url.replace("nats://", `${scheme}://`), { nats });
    const res = await entry.gw.fetch("/v1/publish/creds.test", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    return res.status;
  }

  it("nats - token", async () => {
    expect(await publishThrough('authorization { token: "s3cr3t-token" }', { token: "s3cr3t-token" })).toBe(202);
  });

  it("nats - user and password", async () => {
    expect(await publishThrough('authorization { user: gateway, password: "pa55word" }', { user: "gateway", pass: "pa55word" })).toBe(202);
  });

  it("nats - nkey seed", async () => {
    const kp = createUser();
    const seed = new TextDecoder().decode(kp.getSeed());
    expect(await publishThrough(`authorization { users: [ { nkey: ${kp.getPublicKey()} } ] }`, { nkeySeed: seed })).toBe(202);
  });

  it("nats - creds file (operator mode, JWT + nkey)", async () => {
    const { serverConfig, credsFile } = await createOperatorSetup(mkdtempSync(join(tmpdir(), "natsgate-creds-")));
    expect(await publishThrough(serverConfig, { credsFile })).toBe(202);
  });

  it("nats - mutual TLS with a private CA and a client certificate", async () => {
    const tls = `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true }`;
    expect(await publishThrough(tls, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }, "tls")).toBe(202);
  });

  it("nats - without JetStream the gateway is ready and publishes on core NATS", async () => {
    const server = await NatsServer.start({ jetstream: false });
    const entry: { server: NatsServer; gw?: TestGateway } = { server };
    open.push(entry);
    entry.gw = await startGateway(server.url);
    expect((await entry.gw.fetch("/readyz")).status).toBe(200);
    const res = await entry.gw.fetch("/v1/publish/core.only", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(202);
  });
});
