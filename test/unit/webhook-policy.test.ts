import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { cloudEvent, deliveryRequest, webhookMessageId } from "../../src/webhooks/delivery-request.js";
import { parseRetryAfter } from "../../src/webhooks/http-send.js";
import { DEFAULT_RETRY_SCHEDULE_MS, webhookSchema, type WebhookSpec } from "../../src/config/webhook.js";
import { decide, RETRY_JITTER } from "../../src/webhooks/outcome.js";
import { Deliverer } from "../../src/webhooks/deliverer.js";
import { bindingsFor } from "../../src/webhooks/consumers.js";
import { StreamIndex } from "../../src/nats/stream-index.js";
import { UnprocessableError } from "../../src/errors.js";
import type { HttpSender } from "../../src/webhooks/http-send.js";
import type { NatsClient } from "../../src/nats/client.js";
import { silentLogger } from "../../src/logger.js";

const policy = { format: "json" as const, schedule: [1_000, 60_000] };

describe("webhook outcome policy", () => {
  it.each([
    [200, "delivered"],
    [204, "delivered"],
    [299, "delivered"],
    [301, "dead"],
    [302, "dead"],
    [400, "dead"],
    [401, "dead"],
    [404, "dead"],
    [408, "retry"],
    [410, "disable"],
    [413, "dead"],
    [429, "retry"],
    [500, "retry"],
    [502, "retry"],
    [503, "retry"],
  ])("HTTP %i -> %s", (status, kind) => {
    expect(decide({ status, durationMs: 1 }, policy, 1, 0).kind).toBe(kind);
  });

  it("timeouts and network errors retry; a refused destination is dead at once", () => {
    expect(decide({ error: "timeout", durationMs: 1 }, policy, 1, 0)).toEqual({ kind: "retry", delayMs: 1_000, reason: "timeout" });
    expect(decide({ error: "network", message: "ECONNREFUSED: connect", durationMs: 1 }, policy, 2, 0)).toEqual({ kind: "retry", delayMs: 60_000, reason: "ECONNREFUSED: connect" });
    expect(decide({ error: "refused", message: "destination x is internal", durationMs: 0 }, policy, 1, 0)).toEqual({ kind: "dead", reason: "destination x is internal" });
    // A request Node will not make fails the same way on every retry.
    expect(decide({ error: "invalid", message: "request cannot be sent: bad header", durationMs: 0 }, policy, 1, 0)).toEqual({ kind: "dead", reason: "request cannot be sent: bad header" });
  });

  it("the schedule runs out after its last entry: attempt n+1 failing is dead", () => {
    expect(decide({ status: 500, excerpt: "db down", durationMs: 1 }, policy, 3, 0)).toEqual({
      kind: "dead",
      reason: "retries exhausted after 3 attempts; last: HTTP 500: db down",
    });
  });

  it("jitter only lengthens a delay, by at most RETRY_JITTER; Retry-After is a floor", () => {
    const low = decide({ status: 503, durationMs: 1 }, policy, 1, 0);
    const high = decide({ status: 503, durationMs: 1 }, policy, 1, 0.999);
    expect(low).toMatchObject({ delayMs: 1_000 });
    expect((high as { delayMs: number }).delayMs).toBe(Math.round(1_000 * (1 + RETRY_JITTER * 0.999)));
    expect(decide({ status: 429, retryAfterMs: 30_000, durationMs: 1 }, policy, 1, 0)).toMatchObject({ kind: "retry", delayMs: 30_000 });
    expect(decide({ status: 429, retryAfterMs: 10, durationMs: 1 }, policy, 1, 0)).toMatchObject({ kind: "retry", delayMs: 1_000 });
  });

  it("Slack's error strings decide for slack webhooks only", () => {
    const slack = { ...policy, format: "slack" as const };
    expect(decide({ status: 404, excerpt: "channel_not_found", durationMs: 1 }, slack, 1, 0)).toEqual({ kind: "dead", reason: "Slack answered channel_not_found" });
    expect(decide({ status: 500, excerpt: "invalid_payload", durationMs: 1 }, slack, 1, 0)).toEqual({ kind: "dead", reason: "Slack answered invalid_payload" });
    expect(decide({ status: 410, excerpt: "channel_is_archived", durationMs: 1 }, slack, 1, 0)).toEqual({ kind: "disable", reason: "Slack answered channel_is_archived" });
    expect(decide({ status: 500, excerpt: "rollup_error", durationMs: 1 }, slack, 1, 0).kind).toBe("retry");
    expect(decide({ status: 500, excerpt: "invalid_payload", durationMs: 1 }, policy, 1, 0).kind).toBe("retry");
  });

  it("the default schedule is Svix's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-11-24T12:00:00Z");
  it.each([
    ["120", 120_000],
    [" 0 ", 0],
    ["Tue, 24 Nov 2026 12:00:30 GMT", 30_000],
    ["Tue, 24 Nov 2026 11:00:00 GMT", 0],
    ["999999999", 86_400_000],
    ["soon", undefined],
    ["-5", undefined],
    ["1.5", undefined],
    [undefined, undefined],
  ])("%j -> %j ms", (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe("delivery request", () => {
  const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const spec = (extra: Record<string, unknown> = {}): WebhookSpec => ({ ...webhookSchema.parse({ subjects: ["a.>"], url: "https://hooks.example.com/in", ...extra }), id: "w1" });
  const env = { subject: "a.b", data: { x: 1 }, headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "NatsH-Region": "eu" }, stream: "S", seq: 7, time: "2026-11-24T12:00:00.000Z" };

  it("is signed as Standard Webhooks says: the standardwebhooks package verifies it", () => {
    const now = Date.now();
    const req = deliveryRequest(spec({ secret: SECRET, headers: { "x-team": "core" } }), env, webhookMessageId("S", 7), now);
    expect(req.headers).toEqual({
      "x-team": "core",
      "content-type": "application/json",
      "user-agent": expect.stringMatching(/^natsgate\//),
      "webhook-id": "msg_S_7",
      "webhook-timestamp": String(Math.floor(now / 1000)),
      "webhook-signature": expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      traceparent: env.headers.traceparent,
    });
    const body = Buffer.from(req.body).toString();
    expect(new Webhook(SECRET).verify(body, req.headers)).toEqual(env);
    expect(() => new Webhook(SECRET).verify(body.replace('"x":1', '"x":2'), req.headers)).toThrow();
  });

  it("has no signature header without a secret", () => {
    expect(deliveryRequest(spec(), env, "m", Date.now()).headers).not.toHaveProperty("webhook-signature");
  });

  it("a CloudEvent takes ce-* headers of a binary-mode event as attributes", () => {
    const ce = cloudEvent({ ...env, headers: { "ce-source": "/billing", "ce-id": "evt-1", "ce-type": "invoice.paid", "Content-Type": "application/json" } }, "msg_S_7");
    expect(ce).toEqual({ specversion: "1.0", id: "evt-1", source: "/billing", type: "invoice.paid", time: env.time, datacontenttype: "application/json", data: { x: 1 } });
  });
});

describe("webhook pacing - Slack's host, not Slack's format", () => {
  const deliverer = new Deliverer({
    nats: {} as NatsClient,
    sender: {} as HttpSender,
    clock: { now: () => 0 },
    logger: silentLogger,
    pacedHosts: ["hooks.slack.com"],
  });
  const hook = (url: string, format: WebhookSpec["format"] = "json") => ({ ...webhookSchema.parse({ subjects: ["a"], url, format }), id: "h" }) as WebhookSpec;

  it.each([
    ["https://hooks.slack.com/services/T/B/X", "json", true],
    ["https://HOOKS.slack.com/services/T/B/X", "slack", true],
    ["https://hooks.slack.com./services/T/B/X", "slack", true],
    ["https://hooks.slack.com:443/services/T/B/X", "cloudevents", true],
    ["https://mattermost.example/hooks/x", "slack", false],
    ["https://hooks.slack.com.evil.example/x", "slack", false],
  ] as const)("%s (%s) paced: %s", (url, format, paced) => {
    expect(deliverer.slackPaced(hook(url, format))).toBe(paced);
    expect(deliverer.isPaced(hook(url, format))).toBe(paced);
  });
});

describe("webhook bindings - the gateway's own streams", () => {
  const index = new StreamIndex();
  index.set([
    { name: "CREATED", subjects: ["*.created"] },
    { name: "KV_natsgate_webhooks", subjects: ["$KV.natsgate_webhooks.>"] },
  ]);
  const internal = ["KV_natsgate_webhooks"];

  it("a wildcard-led pattern on a user's stream is bound, not mistaken for an internal one", () => {
    expect(bindingsFor({ id: "h", subjects: ["*.created"] }, index, internal).map((b) => [b.stream, b.pattern])).toEqual([["CREATED", "*.created"]]);
  });

  it("a pattern an internal stream captures is 422", () => {
    expect(() => bindingsFor({ id: "h", subjects: ["$KV.natsgate_webhooks.>"] }, index, internal)).toThrow(UnprocessableError);
  });
});
