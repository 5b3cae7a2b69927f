import { hostname } from "node:os";
import { lookup } from "node:dns/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/load.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { useGateway } from "../support/fixture.js";
import { useSink } from "../support/sink.js";

const ADMIN = "admin-token-0123456789";
const PORTAL = "portal-token-0123456789";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const auth = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

describe("outbound webhooks - admin API", () => {
  const config: ConfigInput = {
      jetstream: { streams: [{ name: "EVENTS", subjects: ["adm.>", "transfer.>"] }] },
      auth: {
        mode: "required",
        clients: [
          { name: "ops", token: ADMIN, admin: true, publish: { allow: [">", "$JS.API.>"] } },
          { name: "portal", token: PORTAL, publish: { allow: ["transfer.>"] } },
        ],
      },
      webhooks: {
        allowlist: ["127.0.0.1"],
        endpoints: [{ id: "from-config", subjects: ["transfer.completed"], url: "https://hooks.example.com/natsgate", secret: SECRET }],
      },
  };
  const f = useGateway(config);
  const sink = useSink();
  const call = (method: string, path: string, body?: unknown, token = ADMIN) =>
    f.gw.fetch(path, { method, headers: auth(token), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const consumers = async () => {
    const names: string[] = [];
    for await (const c of f.jsm.consumers.list("EVENTS")) names.push(c.name);
    return names.sort();
  };

  it("admin - without a token 401, without admin permission 403, both audited", async () => {
    expect((await f.gw.fetch("/v1/webhooks")).status).toBe(401);
    const res = await call("GET", "/v1/webhooks", undefined, PORTAL);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ status: 403, detail: "client portal needs admin permission" });
    expect((await call("POST", "/v1/dead-letters/1/retry", undefined, PORTAL)).status).toBe(403);
    expect(f.gw.audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: "admin", outcome: "denied", status: 403, client: "portal", resource: "webhooks" })]));
    // One record per request, for the bare collection paths too (they were audited twice).
    f.gw.audit.length = 0;
    await call("GET", "/v1/webhooks");
    await call("GET", "/v1/dead-letters");
    await call("GET", "/v1/webhooks/nope");
    expect(f.gw.audit.map((r) => [r.status, r.resource])).toEqual([
      [200, "webhooks"],
      [200, "dead-letters"],
      [404, "webhook:nope"],
    ]);
  });

  it("admin - config-file webhooks are listed (secrets never shown) and cannot be changed through the API", async () => {
    const res = await call("GET", "/v1/webhooks");
    expect(res.status).toBe(200);
    const { webhooks } = await res.json();
    expect(webhooks).toEqual([
      {
        id: "from-config",
        subjects: ["transfer.completed"],
        url: "https://hooks.example.com/***",
        format: "json",
        enabled: true,
        ordered: false,
        source: "config",
        secrets: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
    expect(JSON.stringify(webhooks)).not.toContain(SECRET.slice(6));
    expect((await call("DELETE", "/v1/webhooks/from-config")).status).toBe(409);
    const put = await call("PUT", "/v1/webhooks/from-config", { subjects: ["transfer.>"], url: "https://hooks.example.com/natsgate", secret: SECRET });
    expect(put.status).toBe(409);
    const definition = { subjects: ["transfer.completed"], url: "https://hooks.example.com/natsgate", secret: SECRET };
    const off = await call("PUT", "/v1/webhooks/from-config", { ...definition, enabled: false });
    expect(off.status, await off.clone().text()).toBe(200);
    expect(await off.json()).toMatchObject({ id: "from-config", enabled: false, source: "config" });
    // Another replica starting with the same file keeps the admin's choice.
    const replica = await startGateway(f.server.url, config);
    try {
      expect(await (await replica.fetch("/v1/webhooks/from-config", { headers: auth(ADMIN) })).json()).toMatchObject({ enabled: false, disabledBy: "admin" });
    } finally {
      await replica.close();
    }
    const on = await call("PUT", "/v1/webhooks/from-config", definition);
    expect(await on.json()).toMatchObject({ enabled: true, source: "config" });
    expect(await consumers()).toContain(`natsgate_wh_from-config_${(await consumers()).find((n) => n.startsWith("natsgate_wh_from-config_"))!.slice(24)}`);
  });

  it("admin - create, read, replace and delete; consumers follow the subjects", async () => {
    const created = await call("POST", "/v1/webhooks", { id: "crud", subjects: ["adm.a.*", "adm.b.>"], url: `${sink.url}/crud`, secret: SECRET, headers: { "x-team": "payments", authorization: "Bearer sink-credential" } });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/v1/webhooks/crud");
    const body = await created.json();
    expect(body).toMatchObject({ id: "crud", subjects: ["adm.a.*", "adm.b.>"], format: "json", enabled: true, source: "api", secrets: 1, headers: { "x-team": "***", authorization: "***" } });
    expect(JSON.stringify(body)).not.toContain("sink-credential");
    expect(body).not.toHaveProperty("secret");
    expect((await consumers()).filter((n) => n.startsWith("natsgate_wh_crud_"))).toHaveLength(2);
    expect((await call("POST", "/v1/webhooks", { id: "crud", subjects: ["adm.c"], url: `${sink.url}/x` })).status).toBe(409);
    expect(await (await call("GET", "/v1/webhooks/crud")).json()).toEqual(body);

    const replaced = await call("PUT", "/v1/webhooks/crud", { subjects: ["adm.a.*"], url: `${sink.url}/crud2`, format: "cloudevents" });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ id: "crud", subjects: ["adm.a.*"], url: `${sink.url}/***`, format: "cloudevents", secrets: 0, createdAt: body.createdAt });
    expect((await consumers()).filter((n) => n.startsWith("natsgate_wh_crud_")), JSON.stringify(await consumers())).toHaveLength(1);

    expect((await call("DELETE", "/v1/webhooks/crud")).status).toBe(204);
    expect((await call("GET", "/v1/webhooks/crud")).status).toBe(404);
    expect((await call("DELETE", "/v1/webhooks/crud")).status).toBe(404);
    expect((await consumers()).filter((n) => n.startsWith("natsgate_wh_crud_"))).toEqual([]);

    const slack = await call("POST", "/v1/webhooks", { id: "masked", subjects: ["adm.masked"], url: "https://hooks.slack.com/services/T0001/B0002/s3cr3tT0ken?x=token-in-query", format: "slack" });
    expect((await slack.json()).url).toBe("https://hooks.slack.com/services/***/***/***?***");

    const upserted = await call("PUT", "/v1/webhooks/made-by-put", { subjects: ["adm.put"], url: `${sink.url}/put` });
    expect(upserted.status).toBe(201);
    expect(upserted.headers.get("location")).toBe("/v1/webhooks/made-by-put");
  });

  it("admin - a webhook without an id gets one", async () => {
    const res = await call("POST", "/v1/webhooks", { subjects: ["adm.anon"], url: `${sink.url}/anon` });
    expect(res.status).toBe(201);
    const { id } = await res.json();
    expect(id).toMatch(/^wh_[A-Za-z0-9]{12}$/);
    expect(res.headers.get("location")).toBe(`/v1/webhooks/${id}`);
  });

  it.each([
    [{ subjects: [], url: "https://x.example" }, "/subjects"],
    [{ subjects: ["adm..x"], url: "https://x.example" }, "/subjects/0"],
    [{ subjects: ["adm.x"], url: "ftp://x.example" }, "/url"],
    [{ subjects: ["adm.x"], url: "https://user:pw@x.example" }, "/url"],
    [{ subjects: ["adm.x"], url: "https://x.example", secret: "not-a-secret" }, "/secret"],
    [{ subjects: ["adm.x"], url: "https://x.example", format: "xml" }, "/format"],
    [{ subjects: ["adm.x"], url: "https://x.example", headers: { "webhook-signature": "forged" } }, "/headers"],
    [{ subjects: ["adm.x"], url: "https://x.example", headers: { "x-team": "pay€" } }, "/headers/x-team"],
    [{ subjects: ["adm.x"], url: "https://x.example", headers: { "x-team": "a\r\nx-injected: 1" } }, "/headers/x-team"],
    [{ subjects: ["adm.x"], url: "https://x.example", template: "{{data}}" }, "/template"],
    [{ subjects: ["adm.x", "adm.y"], url: "https://x.example", ordered: true }, "/subjects"],
    [{ subjects: ["adm.x"], url: "https://x.example", timeoutMs: 600_000 }, "/timeoutMs"],
    [{ subjects: ["adm.x"], url: "https://x.example", id: "has space" }, "/id"],
    [{ subjects: ["adm.x"], url: "https://x.example", surprise: 1 }, ""],
  ])("admin - invalid webhook %j is 400 naming %s", async (hook, path) => {
    const res = await call("POST", "/v1/webhooks", hook);
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.type).toBe("https://natsgate.dev/problems/invalid-webhook");
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it("admin - a consumer JetStream refuses is 422 with the server's reason", async () => {
    await f.jsm.streams.add({ name: "WORK", subjects: ["wq.>"], retention: "workqueue" as never });
    // The gateway learns of the new stream from JetStream's advisory.
    await expect.poll(() => f.gw.nats.streamIndex.covering("wq.>")).toBe("WORK");
    const res = await call("POST", "/v1/webhooks", { id: "wq", subjects: ["wq.>"], url: `${sink.url}/wq` });
    expect(res.status).toBe(422);
    expect((await res.json()).detail).toBe("JetStream refused a consumer for webhook wq: consumer must be deliver all on workqueue stream");
    expect((await call("GET", "/v1/webhooks/wq")).status).toBe(404);
  });

  it("admin - malformed JSON is 400; subjects no stream captures or that overlap are 422", async () => {
    const bad = await f.gw.fetch("/v1/webhooks", { method: "POST", headers: auth(ADMIN), body: "{" });
    expect(bad.status).toBe(400);
    const uncovered = await call("POST", "/v1/webhooks", { subjects: ["orders.*"], url: "https://x.example" });
    expect(uncovered.status).toBe(422);
    expect((await uncovered.json()).detail).toBe(
      "subjects orders.* are not captured by a JetStream stream; webhooks deliver only from streams (add them to jetstream.streams)",
    );
    const partly = await call("POST", "/v1/webhooks", { subjects: [">"], url: "https://x.example" });
    expect(partly.status).toBe(422);
    const overlap = await call("POST", "/v1/webhooks", { subjects: ["adm.*.x", "adm.y.>"], url: "https://x.example" });
    expect(overlap.status).toBe(422);
    expect((await overlap.json()).detail).toBe("subjects adm.*.x and adm.y.> overlap; an event would be delivered twice");
  });

  it.each(["$KV.natsgate_webhooks.>", "$NATSGATE.deadletter.>", "$KV.natsgate_webhooks_pace.>"])(
    "admin - a webhook on %s (the gateway's own streams; the registry holds secrets) is 422",
    async (subject) => {
      const res = await call("POST", "/v1/webhooks", { subjects: [subject], url: `${sink.url}/leak` });
      expect(res.status).toBe(422);
      expect((await res.json()).detail).toBe(`subjects ${subject} are the gateway's own streams (webhook registry, delivery journal), which no webhook may carry`);
    },
  );

  it("admin - a JetStream API grant cannot reach the registry: no direct get, no mirror or source of it", async () => {
    const request = (subject: string, body: unknown) => f.gw.fetch(`/v1/request/${subject}?timeout=2000`, { method: "POST", headers: auth(ADMIN), body: JSON.stringify(body) });
    const direct = await request("$JS.API.DIRECT.GET.KV_natsgate_webhooks.$KV.natsgate_webhooks.from-config", {});
    expect(direct.status).toBe(403);
    for (const config of [
      { name: "EVIL", mirror: { name: "KV_natsgate_webhooks" }, storage: "memory" },
      { name: "EVIL", sources: [{ name: "ADMIN_OK" }, { name: "KV_natsgate_webhooks" }], storage: "memory" },
    ]) {
      const res = await request("$JS.API.STREAM.CREATE.EVIL", config);
      expect(res.status).toBe(403);
      expect((await res.json()).detail).toBe("a stream may not mirror or source the gateway's own stream KV_natsgate_webhooks");
    }
    // nats-server reads field names case-insensitively (with Unicode folding): only plain names pass.
    for (const [config, field] of [
      [{ name: "EVIL", Mirror: { name: "KV_natsgate_webhooks" } }, "Mirror"],
      [{ name: "EVIL", mirror: { Name: "KV_natsgate_webhooks" } }, "Name"],
      [{ name: "EVIL", "\u017Fources": [{ name: "KV_natsgate_webhooks" }] }, "\u017Fources"],
    ] as const) {
      const res = await request("$JS.API.STREAM.CREATE.EVIL", config);
      expect(res.status).toBe(400);
      expect((await res.json()).detail).toContain(`stream config field ${JSON.stringify(field)}`);
    }
    // A repeated field: the server would merge it into the first; the gateway sends what it checked.
    const dup = await f.gw.fetch("/v1/request/$JS.API.STREAM.CREATE.DUP?timeout=2000", {
      method: "POST",
      headers: auth(ADMIN),
      body: '{"name":"DUP","storage":"memory","mirror":{"name":"KV_natsgate_webhooks"},"mirror":{"opt_start_seq":1}}',
    });
    expect(dup.status).toBe(200);
    const made = await f.jsm.streams.info("DUP").catch(() => undefined);
    expect(made?.config.mirror?.name).not.toBe("KV_natsgate_webhooks");
    // Capturing or republishing to the gateway's reply inboxes (registry reads travel there).
    for (const [config, target] of [
      [{ name: "SPY", subjects: ["_INBOX.natsgate.>"] }, "_INBOX.natsgate.>"],
      [{ name: "SPY", subjects: ["_INBOX.>"] }, "_INBOX.>"],
      [{ name: "SPY", subjects: ["spy.>"], republish: { src: ">", dest: "_INBOX.natsgate.x" } }, "_INBOX.natsgate.x"],
    ] as const) {
      const res = await request("$JS.API.STREAM.CREATE.SPY", config);
      expect(res.status).toBe(403);
      expect((await res.json()).detail).toBe(`a stream may not capture or republish to ${target}, which reaches the gateway's internal subjects`);
    }
    // Checked whatever the content type, so a config too deep to re-serialise is 400, not 500.
    const deep = await f.gw.fetch("/v1/request/$JS.API.STREAM.CREATE.DEEP?timeout=2000", {
      method: "POST",
      headers: { ...auth(ADMIN), "content-type": "text/plain" },
      body: "[".repeat(5_000) + "]".repeat(5_000),
    });
    expect(deep.status).toBe(400);
    expect((await deep.json()).title).toBe("JSON too deep");
    const ok = await request("$JS.API.STREAM.CREATE.ADMIN_OK", { name: "ADMIN_OK", subjects: ["adminok.>"], storage: "memory" });
    expect(ok.status).toBe(200);
    expect(JSON.parse(await ok.text()).config.name).toBe("ADMIN_OK");
    await expect(f.jsm.streams.info("EVIL")).rejects.toThrow();
  });

  it("admin - query parameters are checked", async () => {
    expect((await call("GET", "/v1/dead-letters?limit=0")).status).toBe(400);
    expect((await call("GET", "/v1/dead-letters?after=x")).status).toBe(400);
    expect((await call("POST", "/v1/dead-letters/abc/retry")).status).toBe(400);
    expect((await call("POST", "/v1/dead-letters/999999/retry")).status).toBe(404);
    expect((await call("GET", "/v1/webhooks/nope/deliveries")).status).toBe(404);
    expect((await call("POST", "/v1/webhooks/nope/test")).status).toBe(404);
  });
});

describe("outbound webhooks - SSRF guard", () => {
  const g = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["adm.>"] }] } });
  const sink = useSink();
  const ssrfCall = (method: string, path: string, body?: unknown) =>
    g.gw.fetch(path, { method, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it("admin - internal destinations are refused without allowPrivateNetworks", async () => {
    for (const url of ["http://127.0.0.2:9/x", "http://localhost:9/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://10.1.2.3/x", "http://[::ffff:7f00:1]/x"]) {
      const res = await ssrfCall("POST", "/v1/webhooks", { subjects: ["adm.ssrf"], url });
      expect(res.status, url).toBe(422);
      expect((await res.json()).detail).toMatch(/internal address.*; set webhooks\.allowPrivateNetworks or add it to webhooks\.allowlist$/);
    }
  });

  it("admin - a hostname resolving to an internal address is refused when connecting: dead letter, nothing sent", async () => {
    const host = hostname();
    const resolved = await lookup(host).catch(() => undefined);
    if (!resolved) return; // no resolvable hostname on this machine
    const url = sink.url.replace("127.0.0.1", host) + "/rebind";
    const created = await ssrfCall("POST", "/v1/webhooks", { id: "rebind", subjects: ["adm.rebind"], url, retry: { schedule: [10] } });
    expect(created.status).toBe(201);
    expect((await g.gw.fetch("/v1/publish/adm.rebind", { method: "POST", body: "{}" })).status).toBe(201);
    let letters: any[] = [];
    await expect
      .poll(async () => {
        letters = (await (await ssrfCall("GET", "/v1/dead-letters?webhook=rebind")).json()).deadLetters;
        return letters.length;
      })
      .toBe(1);
    expect(letters[0].error).toBe(`destination ${host} resolves to internal address ${resolved.address}; set webhooks.allowPrivateNetworks or add it to webhooks.allowlist`);
    expect(sink.on("/rebind")).toEqual([]);
  });

});

describe("outbound webhooks - registry shared by replicas", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["rep.>"] }] }, webhooks: { allowPrivateNetworks: true } });
  const sink = useSink();
  let other: TestGateway;
  beforeAll(async () => {
    other = await startGateway(f.server.url, { jetstream: { streams: [{ name: "EVENTS", subjects: ["rep.>"] }] }, webhooks: { allowPrivateNetworks: true } });
  });
  afterAll(() => other?.close());

  it("replicas - a webhook created on one replica is seen and served by the other at once", async () => {
    const res = await f.gw.fetch("/v1/webhooks", { method: "POST", body: JSON.stringify({ id: "shared", subjects: ["rep.*"], url: `${sink.url}/shared` }) });
    expect(res.status).toBe(201);
    await expect.poll(async () => (await other.fetch("/v1/webhooks/shared")).status).toBe(200);
    await other.fetch("/v1/webhooks/shared", { method: "DELETE" });
    await expect.poll(async () => (await f.gw.fetch("/v1/webhooks/shared")).status).toBe(404);
  });
});
