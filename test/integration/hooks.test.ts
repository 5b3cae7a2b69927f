import { createHash } from "node:crypto";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { collector, text } from "../support/nats.js";

const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const GH_SECRET = "github-secret-0123";
const SLACK_SECRET = "slack-signing-secret-0123";
const HMAC_SECRET = "plain-hmac-secret-0123";
const hex = (key: string, ...parts: string[]) => {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

describe("inbound webhooks", () => {
  const f = useGateway({
    jetstream: { streams: [{ name: "HOOKS", subjects: ["hooks.>"], duplicateWindow: "2m" }] },
    inbound: [
      { name: "billing", subject: "hooks.billing", verify: { type: "standard-webhooks", secret: SW_SECRET } },
      { name: "github", subject: "hooks.github", verify: { type: "github", secret: GH_SECRET } },
      { name: "mirror", subject: "hooks.mirror", verify: { type: "github", secret: GH_SECRET } },
      { name: "slack", subject: "inbound.slack", verify: { type: "slack", secret: SLACK_SECRET } },
      { name: "legacy", subject: "inbound.legacy", verify: { type: "hmac-sha256", secret: HMAC_SECRET, header: "x-legacy-signature" } },
    ],
  });
  const hook = (name: string, body: string, headers: Record<string, string>) =>
    f.gw.fetch(`/v1/hooks/${name}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  it("hooks - standard-webhooks: a delivery signed by the standardwebhooks library is published with its id, namespaced by source, as Nats-Msg-Id", async () => {
    const body = JSON.stringify({ type: "invoice.paid", amount: 500 });
    const wh = new Webhook(SW_SECRET);
    const now = new Date();
    const headers = { "webhook-id": "msg_2Lh9", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": wh.sign("msg_2Lh9", now, body) };
    const res = await hook("billing", body, headers);
    expect(res.status).toBe(201);
    const ack = await res.json();
    expect(ack).toEqual({ subject: "hooks.billing", stream: "HOOKS", seq: ack.seq, duplicate: false });
    const stored = await f.jsm.streams.getMessage("HOOKS", { seq: ack.seq });
    expect(stored!.string()).toBe(body);
    expect(stored!.header.get("Nats-Msg-Id")).toBe("hook:billing:msg_2Lh9");

    // The same delivery again is a replay: 409, nothing new stored.
    const again = await hook("billing", body, headers);
    expect(again.status).toBe(409);
    expect((await again.json()).title).toBe("Conflict");
    expect((await f.jsm.streams.info("HOOKS")).state.messages).toBe(1);
  });

  it("hooks - standard-webhooks: a wrong signature, a tampered body or an old timestamp is 401 and nothing is published", async () => {
    const sub = await collector(f.nc, "hooks.billing");
    const wh = new Webhook(SW_SECRET);
    const body = '{"x":1}';
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const old = new Date(now.getTime() - 6 * 60 * 1000);
    const cases: Record<string, string>[] = [
      { "webhook-id": "m1", "webhook-timestamp": ts, "webhook-signature": new Webhook("whsec_" + Buffer.from("other-secret-bytes").toString("base64")).sign("m1", now, body) },
      { "webhook-id": "m2", "webhook-timestamp": ts, "webhook-signature": wh.sign("m2", now, '{"x":2}') },
      { "webhook-id": "m3", "webhook-timestamp": String(Math.floor(old.getTime() / 1000)), "webhook-signature": wh.sign("m3", old, body) },
      { "webhook-id": "m4", "webhook-timestamp": ts },
      { "webhook-id": "m5", "webhook-timestamp": ts, "webhook-signature": wh.sign("other-id", now, body) },
    ];
    for (const headers of cases) {
      const res = await hook("billing", body, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    await f.nc.flush();
    expect(sub.messages).toHaveLength(0);
    const refused = f.gw.audit.filter((r) => r.client === "hook:billing" && r.status === 401);
    expect(refused).toHaveLength(5);
    // Each record names the request it answered.
    expect(new Set(refused.map((r) => r.requestId)).size).toBe(5);
    expect(refused.every((r) => typeof r.requestId === "string")).toBe(true);
    sub.unsubscribe();
  });

  it("hooks - github X-Hub-Signature-256: good is published, bad is 401; a replay with a fresh (unsigned) X-GitHub-Delivery is 409", async () => {
    const body = JSON.stringify({ action: "opened", number: 7 });
    const signature = { "x-hub-signature-256": "sha256=" + hex(GH_SECRET, body) };
    const ok = await hook("github", body, { ...signature, "x-github-delivery": "gh-1" });
    expect(ok.status).toBe(201);
    const stored = await f.jsm.streams.getMessage("HOOKS", { seq: (await ok.json()).seq });
    const bodyHash = createHash("sha256").update(body).digest("hex");
    expect(stored!.header.get("Nats-Msg-Id")).toBe(`hook:github:sha256:${bodyHash}`);
    const replay = await hook("github", body, { ...signature, "x-github-delivery": "gh-2-forged" });
    expect(replay.status).toBe(409);
    expect((await replay.json()).detail).toBe(`delivery hook:github:sha256:${bodyHash} was already received (seq ${stored!.seq})`);
    // Another source sending the same body into the same stream is another delivery (review).
    expect((await hook("mirror", body, signature)).status).toBe(201);
    // And no client can take an inbound id to pre-empt one.
    const forged = await f.gw.fetch("/v1/publish/hooks.other", { method: "POST", body: "{}", headers: { "content-type": "application/json", "idempotency-key": "hook:mirror:sha256:x" } });
    expect(forged.status).toBe(400);
    expect((await forged.json()).detail).toBe("Idempotency-Key values starting with hook: are reserved for inbound webhooks");
    expect((await hook("github", body, { "x-hub-signature-256": "sha256=" + hex("wrong", body) })).status).toBe(401);
    expect((await hook("github", body, {})).status).toBe(401);
  });

  it("hooks - slack v0 signing secret with timestamp: good is published, bad or stale is 401", async () => {
    const sub = await collector(f.nc, "inbound.slack");
    const body = "token=x&command=%2Fdeploy&text=prod";
    const ts = String(Math.floor(Date.now() / 1000));
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const ok = await hook("slack", body, { ...form, "x-slack-request-timestamp": ts, "x-slack-signature": "v0=" + hex(SLACK_SECRET, `v0:${ts}:`, body) });
    expect(ok.status).toBe(202);
    expect(text((await sub.next(1))[0]!)).toBe(body);
    const stale = String(Math.floor(Date.now() / 1000) - 600);
    expect((await hook("slack", body, { ...form, "x-slack-request-timestamp": stale, "x-slack-signature": "v0=" + hex(SLACK_SECRET, `v0:${stale}:`, body) })).status).toBe(401);
    expect((await hook("slack", body, { ...form, "x-slack-request-timestamp": ts, "x-slack-signature": "v0=" + hex("nope", `v0:${ts}:`, body) })).status).toBe(401);
    sub.unsubscribe();
  });

  it("hooks - hmac-sha256 with a configured header: good is published, bad is 401; unknown hooks are 404", async () => {
    const body = '{"legacy":true}';
    expect((await hook("legacy", body, { "x-legacy-signature": hex(HMAC_SECRET, body) })).status).toBe(202);
    expect((await hook("legacy", body, { "x-legacy-signature": "sha256=" + hex(HMAC_SECRET, body) })).status).toBe(202);
    expect((await hook("legacy", body, { "x-legacy-signature": hex(HMAC_SECRET, body + " ") })).status).toBe(401);
    expect((await hook("legacy", body, { "x-signature": hex(HMAC_SECRET, body) })).status).toBe(401);
    expect((await hook("nope", body, {})).status).toBe(404);
  });
});
