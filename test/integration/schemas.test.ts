import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";

const BUILTIN = [
  "cluster.*.nodeAdded",
  "deploy.request",
  "deployment.status",
  "image.uploaded",
  "node.scaled",
  "pod.crashloop",
  "transfer.completed",
  "transfer.error",
];

describe("schemas, docs and probes", () => {
  const BILLING = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://billing.example/invoice.json",
    description: "An invoice was issued",
    type: "object",
    properties: {
      invoiceId: { type: "string", pattern: "^inv-[0-9]+$" },
      amountCents: { type: "integer", minimum: 0 },
      email: { type: "string", format: "email" },
      issuedAt: { type: "string", format: "date-time" },
    },
    required: ["invoiceId", "amountCents"],
    additionalProperties: false,
    "x-owner": "billing-team",
  };
  let server: NatsServer;
  let gw: TestGateway;
  let strict: TestGateway;

  beforeAll(async () => {
    server = await NatsServer.start();
    const dir = mkdtempSync(join(tmpdir(), "natsgate-schema-"));
    const file = join(dir, "billing.json");
    writeFileSync(file, JSON.stringify(BILLING));
    gw = await startGateway(server.url, { schemas: { files: [{ subject: "billing.*", jsonSchema: file }] } });
    strict = await startGateway(server.url, { schemas: { strict: true } });
  });

  afterAll(async () => {
    await gw?.close();
    await strict?.close();
    await server?.cleanup();
  });

  const publish = (g: TestGateway, subject: string, body: unknown) =>
    g.fetch(`/v1/publish/${subject}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  it("schemas - GET /v1/schemas lists every registered pattern with its JSON Schema", async () => {
    const res = await gw.fetch("/v1/schemas");
    expect(res.status).toBe(200);
    const { schemas } = await res.json();
    expect(schemas.map((s: { subject: string }) => s.subject)).toEqual(["billing.*", ...BUILTIN]);
    const transfer = schemas.find((s: { subject: string }) => s.subject === "transfer.completed");
    expect(transfer.source).toBe("builtin");
    expect(transfer.description).toBe("An image transfer finished successfully");
    expect(transfer.schema.required).toEqual(["transferId", "imageId", "source", "destination", "sizeBytes", "durationMs", "completedAt"]);
    expect(schemas[0]).toMatchObject({ subject: "billing.*", source: "file", description: "An invoice was issued" });
  });

  it("schemas - GET /v1/schemas/{subject} answers for a pattern and for a concrete subject; 404 otherwise", async () => {
    const byPattern = await gw.fetch(`/v1/schemas/${encodeURIComponent("cluster.*.nodeAdded")}`);
    expect(byPattern.status).toBe(200);
    expect(byPattern.headers.get("content-type")).toBe("application/schema+json");
    const schema = await byPattern.json();
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.properties.node.properties.name.type).toBe("string");

    const byConcrete = await gw.fetch("/v1/schemas/cluster.dev.nodeAdded");
    expect(byConcrete.headers.get("x-natsgate-subject")).toBe("cluster.*.nodeAdded");
    expect(await byConcrete.json()).toEqual(schema);

    const missing = await gw.fetch("/v1/schemas/no.such.thing");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
  });

  it("schemas - a JSON Schema file is served exactly as written, not a lossy round trip through zod", async () => {
    const res = await gw.fetch("/v1/schemas/billing.*");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(BILLING);
    const { schemas } = await (await gw.fetch("/v1/schemas")).json();
    expect(schemas[0].schema).toEqual(BILLING);
  });

  it("schemas - a JSON Schema file from config validates its subjects", async () => {
    expect((await publish(gw, "billing.invoice", { invoiceId: "inv-1", amountCents: 500 })).status).toBe(202);
    expect((await publish(gw, "billing.invoice", { invoiceId: "i-1", amountCents: 500 })).status).toBe(422);
    const bad = await publish(gw, "billing.invoice", { invoiceId: "inv-1", amountCents: -5 });
    expect(bad.status).toBe(422);
    expect((await bad.json()).errors).toEqual([{ path: "/amountCents", message: "Too small: expected number to be >=0" }]);
  });

  it("schemas - strict mode refuses subjects without a schema with 422", async () => {
    const res = await publish(strict, "unknown.subject", {});
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      type: "https://natsgate.dev/problems/no-schema",
      title: "No schema for subject",
      status: 422,
      detail: "no schema is registered for unknown.subject and schemas.strict is on",
    });
    const raw = await strict.fetch("/v1/publish/unknown.subject", { method: "POST", body: "x", headers: { "content-type": "text/plain" } });
    expect(raw.status).toBe(422);
  });

  it("docs - /openapi.json describes the API and embeds the event schemas", async () => {
    const res = await gw.fetch("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    // That it lists every route the app serves is openapi.test.ts's.
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/publish/{subject}", "/v1/subscribe", "/v1/ws", "/v1/hooks/{name}", "/v1/webhooks"]));
    expect(doc.components.schemas.WebhookInput.required).toEqual(["subjects", "url"]);
    expect(Object.keys(doc.components.schemas.WebhookInput.properties)).toEqual(expect.arrayContaining(["id", "subjects", "url", "format", "secret", "template", "retry", "ordered"]));
    expect(Object.keys(doc.paths["/v1/publish/{subject}"].post.responses).sort()).toEqual(
      ["201", "202", "400", "401", "403", "409", "412", "413", "415", "422", "429", "503", "504"],
    );
    expect(doc.components.schemas.transfer_completed["x-natsgate-subject"]).toBe("transfer.completed");
    expect(doc.components.schemas.cluster_any_nodeAdded.required).toEqual(["cluster", "node", "addedAt"]);
  });

  it("probes - /healthz and /readyz answer 200 with NATS connected", async () => {
    expect(await (await gw.fetch("/healthz")).json()).toEqual({ status: "ok" });
    const ready = await gw.fetch("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", nats: { connected: true, server: expect.stringMatching(/^2\./) } });
  });
});
