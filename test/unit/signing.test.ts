import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { githubVerify, hmacVerify, slackVerify, standardWebhooksSign, standardWebhooksVerify, timestampFresh } from "../../src/security/signing.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = new TextEncoder().encode('{"type":"transfer.completed"}');

describe("signing - Standard Webhooks", () => {
  it("our signature verifies with the standardwebhooks library, and theirs with ours", () => {
    const ts = Math.floor(Date.now() / 1000);
    const sig = standardWebhooksSign(SECRET, "msg_1", ts, body);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(ts), "webhook-signature": sig };
    expect(() => new Webhook(SECRET).verify(new TextDecoder().decode(body), headers)).not.toThrow();
    const theirs = new Webhook(SECRET).sign("msg_2", new Date(ts * 1000), new TextDecoder().decode(body));
    expect(standardWebhooksVerify(SECRET, "msg_2", ts, body, theirs)).toBe(true);
  });

  it("several signatures (secret rotation): any matching v1 passes; other versions are ignored", () => {
    const ts = 1_700_000_000;
    const good = standardWebhooksSign(SECRET, "m", ts, body);
    expect(standardWebhooksVerify(SECRET, "m", ts, body, `v1,AAAA ${good}`)).toBe(true);
    expect(standardWebhooksVerify(SECRET, "m", ts, body, `v2,${good.slice(3)}`)).toBe(false);
    expect(standardWebhooksVerify(SECRET, "m", ts + 1, body, good)).toBe(false);
  });
});

describe("signing - other schemes", () => {
  it.each([
    ["github", () => githubVerify("s", body, "sha256=" + createHmac("sha256", "s").update(body).digest("hex")), true],
    ["github without prefix", () => githubVerify("s", body, createHmac("sha256", "s").update(body).digest("hex")), false],
    ["slack", () => slackVerify("s", "100", body, "v0=" + createHmac("sha256", "s").update("v0:100:").update(body).digest("hex")), true],
    ["slack wrong timestamp", () => slackVerify("s", "101", body, "v0=" + createHmac("sha256", "s").update("v0:100:").update(body).digest("hex")), false],
    ["hmac base64", () => hmacVerify("s", body, createHmac("sha256", "s").update(body).digest("base64")), true],
    ["hmac garbage", () => hmacVerify("s", body, "zz"), false],
  ])("%s", (_name, check, expected) => {
    expect(check()).toBe(expected);
  });

  it("timestamps must be within 5 minutes either way", () => {
    const now = 1_700_000_000_000;
    expect(timestampFresh(now / 1000 - 299, now)).toBe(true);
    expect(timestampFresh(now / 1000 + 299, now)).toBe(true);
    expect(timestampFresh(now / 1000 - 301, now)).toBe(false);
    expect(timestampFresh(Number.NaN, now)).toBe(false);
  });
});
