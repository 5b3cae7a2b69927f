import { headers as natsHeaders } from "@nats-io/transport-node";
import { beforeAll, describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";

describe("request/reply", () => {
  const f = useGateway();

  beforeAll(async () => {
    const { nc } = f;
    // A responder that echoes the body upper-cased and reports what headers it saw.
    nc.subscribe("svc.echo", {
      callback: (_err, msg) => {
        const h = natsHeaders();
        h.set("Content-Type", "text/plain");
        h.set("X-Seen-Trace", msg.headers?.get("traceparent") ?? "");
        h.set("X-Seen-Tenant", msg.headers?.get("X-Tenant") ?? "");
        msg.respond(new TextEncoder().encode(new TextDecoder().decode(msg.data).toUpperCase()), { headers: h });
      },
    });
    // A responder that never answers.
    nc.subscribe("svc.silent", { callback: () => {} });
    await nc.flush();
  });


  it("request - 200 with the reply's body, and its NATS headers as NatsH-*", async () => {
    const res = await f.gw.fetch("/v1/request/svc.echo?timeout=2000", {
      method: "POST",
      body: "hello",
      headers: { "content-type": "text/plain", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "NatsH-X-Tenant": "acme" },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("HELLO");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("natsh-x-seen-trace")).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(res.headers.get("natsh-x-seen-tenant")).toBe("acme");
  });

  it("request - 503 with Retry-After when nobody listens", async () => {
    const res = await f.gw.fetch("/v1/request/svc.nobody", { method: "POST", body: "x" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({
      type: "https://natsgate.dev/problems/no-responders",
      title: "No responders",
      status: 503,
      detail: "no responders are listening on svc.nobody",
    });
  });

  it("request - 504 when the responder does not answer in time", async () => {
    const started = Date.now();
    const res = await f.gw.fetch("/v1/request/svc.silent?timeout=200", { method: "POST", body: "x" });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(await res.json()).toMatchObject({ status: 504, title: "Request timed out", detail: "no reply on svc.silent in time" });
  });

  it.each(["0", "-5", "abc", "1.5", "60001"])("request - timeout=%s is 400", async (timeout) => {
    const res = await f.gw.fetch(`/v1/request/svc.echo?timeout=${timeout}`, { method: "POST", body: "x" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("request - same subject and schema rules as publish", async () => {
    expect((await f.gw.fetch("/v1/request/svc.*", { method: "POST", body: "x" })).status).toBe(400);
    expect((await f.gw.fetch("/v1/request/_INBOX.x", { method: "POST", body: "x" })).status).toBe(403);
    const invalid = await f.gw.fetch("/v1/request/deploy.request", {
      method: "POST",
      body: JSON.stringify({ cluster: "dev" }),
      headers: { "content-type": "application/json" },
    });
    expect(invalid.status).toBe(422);
  });
});
