import { describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { startGateway } from "../support/gateway.js";
import { useSink } from "../support/sink.js";
import { webhookApi } from "../support/webhooks.js";

// The sink stands in for hooks.slack.com: its host is configured as a paced host.
const PACED = { allowPrivateNetworks: true, pacedHosts: ["127.0.0.1"] };

describe("outbound webhooks - Slack", () => {
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["slack.>"] }] }, webhooks: PACED });
  const publish = publishVia(() => f.gw);
  const sink = useSink();
  const { create, deadLetters } = webhookApi(() => f.gw);

  it("slack - text and blocks are rendered from the envelope; event data is escaped, the template is not", async () => {
    await create({
      id: "notify",
      subjects: ["slack.transfer.*"],
      url: `${sink.url}/notify`,
      format: "slack",
      template: {
        text: "<https://status.example|Transfer> of {{data.image}} done by {{data.user.name}} ({{subject}}, missing: '{{data.nope.deeper}}')",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "*{{data.image}}* seq {{seq}} {{data}}" } }],
      },
    });
    const { seq } = await (await publish("slack.transfer.completed", JSON.stringify({ image: "evil<@U123>&co", user: { name: "ana" } }))).json();
    const [req] = await sink.waitFor("/notify", 1);
    expect(req!.headers["content-type"]).toBe("application/json");
    const message = JSON.parse(req!.body);
    expect(message.text).toBe(
      "<https://status.example|Transfer> of evil&lt;@U123&gt;&amp;co done by ana (slack.transfer.completed, missing: '')",
    );
    expect(message.blocks).toEqual([
      { type: "section", text: { type: "mrkdwn", text: `*evil&lt;@U123&gt;&amp;co* seq ${seq} {"image":"evil&lt;@U123&gt;&amp;co","user":{"name":"ana"}}` } },
    ]);
    expect(Object.keys(message)).toEqual(["text", "blocks"]);
  });

  it("slack - placeholders cannot reach prototypes or run code", async () => {
    await create({ id: "proto", subjects: ["slack.proto"], url: `${sink.url}/proto`, format: "slack", template: "[{{constructor}}][{{data.__proto__}}][{{ data.a }}][{{data.a + 1}}]" });
    await publish("slack.proto", JSON.stringify({ a: 1 }));
    const [req] = await sink.waitFor("/proto", 1);
    expect(JSON.parse(req!.body)).toEqual({ text: "[][][1][{{data.a + 1}}]" });
  });

  it("slack - at most one request per second per Slack URL", async () => {
    await create({ id: "paced", subjects: ["slack.paced"], url: `${sink.url}/paced`, format: "slack" });
    for (let i = 0; i < 3; i++) await publish("slack.paced", JSON.stringify({ i }));
    const reqs = await sink.waitFor("/paced", 3, 10_000);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(950);
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(950);
    expect(reqs.map((r) => JSON.parse(r.body).text)).toEqual(['*slack.paced*: {"i":0}', '*slack.paced*: {"i":1}', '*slack.paced*: {"i":2}']);
  });

  it("slack - a paced host is paced whatever the format (json here)", async () => {
    await create({ id: "paced-json", subjects: ["slack.pacedjson"], url: `${sink.url}/paced-json`, format: "json" });
    for (let i = 0; i < 3; i++) await publish("slack.pacedjson", JSON.stringify({ i }));
    const reqs = await sink.waitFor("/paced-json", 3, 10_000);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(950);
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(950);
  });

  it("slack - the one-per-second pace holds across replicas sharing the webhook", async () => {
    const other = await startGateway(f.server.url, { jetstream: { streams: [{ name: "EVENTS", subjects: ["slack.>"] }] }, webhooks: PACED });
    try {
      await create({ id: "shared-pace", subjects: ["slack.shared"], url: `${sink.url}/shared-pace`, format: "slack" });
      await expect.poll(async () => (await other.fetch("/v1/webhooks/shared-pace")).status).toBe(200);
      for (let i = 0; i < 4; i++) await publish("slack.shared", JSON.stringify({ i }));
      const reqs = await sink.waitFor("/shared-pace", 4, 10_000);
      const gaps = reqs.slice(1).map((r, i) => r.at - reqs[i]!.at);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
      // Each replica has its own keep-alive socket: two ports mean both replicas sent some.
      expect(new Set(reqs.map((r) => r.remotePort)).size).toBe(2);
    } finally {
      await other.close();
    }
  });

  it("slack - invalid_payload is permanent (dead letter); channel_is_archived disables the webhook", async () => {
    sink.script("/invalid", () => ({ status: 400, body: "invalid_payload" }));
    sink.script("/archived", () => ({ status: 410, body: "channel_is_archived" }));
    await create({ id: "invalid", subjects: ["slack.invalid"], url: `${sink.url}/invalid`, format: "slack", retry: { schedule: [10, 10] } });
    await create({ id: "archived", subjects: ["slack.archived"], url: `${sink.url}/archived`, format: "slack" });
    await publish("slack.invalid", "{}");
    await publish("slack.archived", "{}");
    await expect
      .poll(async () => (await deadLetters("invalid")).map((l: any) => [l.reason, l.status, l.response]))
      .toEqual([["Slack answered invalid_payload", 400, "invalid_payload"]]);
    await expect.poll(async () => (await (await f.gw.fetch("/v1/webhooks/archived")).json()).disabledReason).toBe("Slack answered channel_is_archived");
    expect(sink.on("/invalid")).toHaveLength(1);
    expect(sink.on("/archived")).toHaveLength(1);
  });
});

describe("outbound webhooks - Slack format to a Slack-compatible server (Mattermost, Rocket.Chat)", () => {
  // Default pacedHosts: only hooks.slack.com is paced, so the sink on 127.0.0.1 is not.
  const f = useGateway({ jetstream: { streams: [{ name: "EVENTS", subjects: ["mm.>"] }] }, webhooks: { allowPrivateNetworks: true } });
  const publish = publishVia(() => f.gw);
  const sink = useSink();
  const { create } = webhookApi(() => f.gw);

  it("slack - format slack elsewhere is not held to Slack's pace; a per-webhook rateLimit still applies", async () => {
    await create({ id: "mattermost", subjects: ["mm.fast"], url: `${sink.url}/mm`, format: "slack" });
    await create({ id: "limited", subjects: ["mm.slow"], url: `${sink.url}/slow`, format: "slack", rateLimit: 2 });
    for (let i = 0; i < 5; i++) await publish("mm.fast", JSON.stringify({ i }));
    for (let i = 0; i < 3; i++) await publish("mm.slow", JSON.stringify({ i }));
    const fast = await sink.waitFor("/mm", 5, 10_000);
    expect(fast.at(-1)!.at - fast[0]!.at).toBeLessThan(900);
    expect(fast.map((r) => JSON.parse(r.body).text).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `*mm.fast*: {"i":${i}}`));
    const slow = await sink.waitFor("/slow", 3, 10_000);
    expect(slow[1]!.at - slow[0]!.at).toBeGreaterThanOrEqual(450);
    expect(slow[2]!.at - slow[1]!.at).toBeGreaterThanOrEqual(450);
  });
});
