import { describe, expect, it } from "vitest";
import { maskUrl, publicWebhook, type StoredWebhook } from "../../src/webhooks/model.js";

describe("webhook views mask every credential, not only the ones a name reveals", () => {
  it.each([
    ["https://hooks.slack.com/services/T0001/B0002/s3cr3tT0ken", "https://hooks.slack.com/services/***/***/***"],
    // A trailing slash or the root-dot host spelling used to show Slack's token.
    ["https://hooks.slack.com/services/T0001/B0002/s3cr3tT0ken/", "https://hooks.slack.com/services/***/***/***/"],
    ["https://hooks.slack.com./services/T0001/B0002/s3cr3tT0ken", "https://hooks.slack.com./services/***/***/***"],
    ["https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKl_MnOp", "https://discord.com/api/webhooks/***/***"],
    ["https://user:pa55@sink.example:8443/in?token=abc&token=def&format=1#frag", "https://***:***@sink.example:8443/in?***&format=***#***"],
    ["https://sink.example/hooks/payments/events", "https://sink.example/hooks/***/events"],
    // Word-like tokens are tokens too (review): only known words are shown.
    ["https://example.com/hook?SECRETTOKEN123", "https://example.com/hook?***"],
    ["https://hooks.zapier.com/hooks/catch/1234567/bq4ltax/", "https://hooks.zapier.com/hooks/catch/***/***/"],
    ["https://x.example/api/webhooks/hunter2pass/", "https://x.example/api/webhooks/***/"],
    ["https://x.example/x/supersecretword", "https://x.example/***/***"],
    ["https://sink.example/abcdefghijklmnopqrstuvwxyz", "https://sink.example/***"],
    ["https://sink.example/api/v2/a1b2c3d4/in", "https://sink.example/api/v2/***/in"],
    ["https://[2001:db8::1]:8443/v1/events", "https://[2001:db8::1]:8443/v1/events"],
    ["http://10.0.0.1:9000/", "http://10.0.0.1:9000/"],
  ])("maskUrl(%s)", (url, shown) => {
    expect(maskUrl(url)).toBe(shown);
  });

  it("every header value is masked, whatever its name", () => {
    const hook = {
      id: "h",
      subjects: ["a"],
      url: "https://sink.example/in",
      format: "json",
      enabled: true,
      source: "api",
      createdAt: "2026-11-28T00:00:00Z",
      updatedAt: "2026-11-28T00:00:00Z",
      secret: "whsec_AAAA",
      headers: { "X-Custom": "c", "X-Access": "a", "X-Credential": "k", "X-Sig": "s", "X-Pass": "p" },
    } as unknown as StoredWebhook;
    const view = publicWebhook(hook);
    expect(view.headers).toEqual({ "X-Custom": "***", "X-Access": "***", "X-Credential": "***", "X-Sig": "***", "X-Pass": "***" });
    expect(view).not.toHaveProperty("secret");
    expect(view.secrets).toBe(1);
  });
});
