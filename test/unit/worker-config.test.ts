/** The Workers entry's answer to a bad configuration: 500 naming the key, never a value (issue 13 review). */
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/worker.js";

const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
const call = (env: Record<string, string>) => worker.fetch(new Request("https://edge.example/healthz"), env, ctx);

describe("worker configuration errors", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ["NATS_URL", { NATS_URL: "nats://gateway:S3cr3tPassw0rd@nats.internal:4222" }, "S3cr3tPassw0rd"],
    ["NATS_URL", {}, undefined],
    ["NATSGATE_CONFIG_JSON", { NATS_URL: "wss://nats.example", NATSGATE_CONFIG_JSON: "pass: hunter2" }, "hunter2"],
    ["nats.credsFile", { NATS_URL: "wss://nats.example", NATSGATE_CONFIG_JSON: JSON.stringify({ nats: { credsFile: "/secrets/user.creds" } }) }, "/secrets/user.creds"],
    ["nats.tls", { NATS_URL: "wss://nats.example", NATSGATE_CONFIG_JSON: JSON.stringify({ nats: { tls: { ca: "/etc/ca.pem" } } }) }, "/etc/ca.pem"],
    ["schemas.files", { NATS_URL: "wss://nats.example", NATSGATE_CONFIG_JSON: JSON.stringify({ schemas: { files: [{ subject: "a.b", jsonSchema: "./a.json" }] } }) }, "./a.json"],
    ["auth.mode", { NATS_URL: "wss://nats.example" }, undefined],
    ["auth.mode", { NATS_URL: "wss://nats.example", NATSGATE_CONFIG_JSON: "{}" }, undefined],
    ["auth.clients", { NATS_URL: "wss://nats.example", NATSGATE_CONFIG_JSON: JSON.stringify({ auth: { mode: "required", clients: "sekrit-token" } }) }, "sekrit-token"],
  ])("a bad %s answers 500 naming the key; the value is only in the Worker's log", async (key, env, secret) => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void logged.push(line));
    const res = await call(env);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await res.json();
    expect(body).toMatchObject({ title: "Invalid configuration", status: 500 });
    expect(body.detail.startsWith(`invalid configuration at ${key}`)).toBe(true);
    expect(body.detail.endsWith("; the Worker's log has the reason")).toBe(true);
    if (secret) expect(JSON.stringify(body)).not.toContain(secret);
    expect(logged.join("\n")).toContain(key);
  });
});
