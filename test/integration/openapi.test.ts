/**
 * `/openapi.json` against the app that serves it (issue 17): every route the app
 * serves is documented and nothing else is, each refusal a route gives is among
 * its documented responses, an independent validator accepts the document, and
 * `openapi-typescript` turns it into types a program type-checks against.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Validator } from "@seriousme/openapi-schema-validator";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { rawRequest } from "../support/raw-http.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "natsgate-openapi-"));
const billingSchema = join(dir, "billing.json");
writeFileSync(
  billingSchema,
  JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", required: ["invoice", "cents"], properties: { invoice: { type: "string" }, cents: { type: "integer" } }, additionalProperties: false }),
);

type Operation = { security?: object[]; responses: Record<string, { content?: Record<string, unknown> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

describe("openapi - the document and the app", () => {
  const f = useGateway({
    auth: { mode: "required", clients: [{ name: "svc", token: "svc-token-0123456789abcdef" }] },
    metrics: { token: "metrics-token-0123456789abcdef" },
    inbound: [{ name: "gh", subject: "hooks.gh", verify: { type: "github", secret: "inbound-secret-0123456789" } }],
    schemas: { files: [{ subject: "billing.*", jsonSchema: billingSchema }] },
  });
  const doc = async () => (await (await f.gw.fetch("/openapi.json")).json()) as Doc;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The app's routes as OpenAPI paths: `:id` is `{id}`, and the console's modules are one templated path. */
  const served = () => {
    const routes = new Set<string>();
    for (const r of f.gw.app.routes) {
      if (r.method === "ALL") continue; // middleware
      const path = r.path.replace(/:(\w+)/g, "{$1}").replace(/^\/console\/[^/]+$/, "/console/{asset}").replace(/^\/console\/client\/[^/]+$/, "/console/client/{module}");
      routes.add(`${r.method.toLowerCase()} ${path}`);
    }
    return routes;
  };

  it("every route the app serves is documented, and every documented operation is served", async () => {
    const d = await doc();
    const documented = new Set(Object.entries(d.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m} ${path}`)));
    expect([...served()].sort()).toEqual([...documented].sort());
    // The console's modules: each served one is in the parameter's enum.
    const enumOf = (path: string) => (d.paths[path]!.get as unknown as { parameters: { schema: { enum: string[] } }[] }).parameters[0]!.schema.enum.sort();
    const under = (prefix: string) => f.gw.app.routes.map((r) => r.path).filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/")).map((p) => p.slice(prefix.length)).sort();
    expect(enumOf("/console/{asset}")).toEqual(under("/console/"));
    expect(enumOf("/console/client/{module}")).toEqual(under("/console/client/"));
    // Every module of the client's build is served: one the list forgot would break the page's imports.
    expect(under("/console/client/")).toEqual(readdirSync(join(ROOT, "client/src")).map((n) => n.replace(/\.ts$/, ".js")).sort());
  });

  it("every operation that takes credentials documents 401 and 429, and every refusal is problem+json", async () => {
    const d = await doc();
    for (const [path, item] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const at = `${method} ${path}`;
        const open = op.security !== undefined && (op.security.length === 0 || op.security.every((s) => Object.keys(s).length === 0));
        if (!open && path !== "/metrics") expect([at, "401" in op.responses, "429" in op.responses]).toEqual([at, true, true]);
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) expect([at, status, Object.keys(response.content ?? {})]).toEqual([at, status, ["application/problem+json"]]);
        }
      }
    }
  });

  it("what each route answers a caller without credentials is one of its documented responses", async () => {
    const d = await doc();
    const sample = (path: string) => path.replace("{subject}", "orders.created").replace("{id}", "x1").replace("{name}", "gh").replace("{asset}", "console.js").replace("{module}", "index.js");
    const seen: string[] = [];
    for (const [path, item] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const query = path === "/v1/subscribe" ? "?subject=orders.created" : "";
        const hasBody = method === "post" || method === "put";
        // fetch refuses to send an upgrade: the socket does.
        const status =
          path === "/v1/ws"
            ? (await rawRequest(f.gw.url, { method: "GET", path, head: ["upgrade: websocket", "connection: upgrade", "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version: 13"] }))!.status
            : await f.gw
                .fetch(sample(path) + query, { method: method.toUpperCase(), headers: hasBody ? { "content-type": "application/json" } : {}, body: hasBody ? "{}" : undefined })
                .then(async (res) => (await res.body?.cancel(), res.status));
        const res = { status };
        seen.push(`${method} ${path} ${res.status}`);
        expect([method, path, String(res.status) in op.responses]).toEqual([method, path, true]);
      }
    }
    // The refusals were refusals: no route took the call without credentials, but the public ones.
    expect(seen.filter((s) => / 2\d\d$/.test(s)).map((s) => s.replace(/ \d+$/, "")).sort()).toEqual(["get /", "get /console/client/{module}", "get /console/{asset}", "get /healthz", "get /openapi.json", "get /readyz"]);
  });

  it("an independent OpenAPI 3.1 validator accepts the document", async () => {
    const result = await new Validator().validate((await doc()) as unknown as Parameters<Validator["validate"]>[0]);
    expect(result).toEqual({ valid: true });
  });

  it("event schemas, built-in and from files, become types (openapi-typescript) that a program type-checks against", async () => {
    const d = await doc();
    expect(d.components.schemas["billing_any"]).toMatchObject({ "x-natsgate-subject": "billing.*", required: ["invoice", "cents"] });
    writeFileSync(join(dir, "api.ts"), astToString(await openapiTS(d as never)));
    writeFileSync(
      join(dir, "program.ts"),
      `import type { components, paths } from "./api.js";
type S = components["schemas"];
const transfer: S["transfer_completed"] = { transferId: "t1", imageId: "i1", source: "r", destination: "d", sizeBytes: 1, durationMs: 2, completedAt: "2026-12-07T00:00:00Z" };
const bill: S["billing_any"] = { invoice: "inv-1", cents: 100 };
// @ts-expect-error cents is an integer, not a string
const badBill: S["billing_any"] = { invoice: "inv-1", cents: "100" };
type Body = NonNullable<paths["/v1/publish/{subject}"]["post"]["requestBody"]>["content"]["application/json"];
const body: Body = bill;
function onEvent(e: S["transfer_completed_envelope"]): number {
  return e.data!.sizeBytes + (e.seq ?? 0);
}
function onFrame(f: S["WsServerFrame"]): string {
  return f.op === "msg" ? f.subject : f.op;
}
const sub: S["WsClientFrame"] = { op: "sub", sid: 1, subject: "transfer.>" };
// @ts-expect-error a sub frame needs its subject
const badSub: S["WsClientFrame"] = { op: "sub", sid: 1 };
type Problem = NonNullable<paths["/v1/publish/{subject}"]["post"]["responses"]["422"]["content"]>["application/problem+json"];
const problem: Problem = { type: "t", title: "Unprocessable", status: 422, detail: "d" };
export { transfer, badBill, body, onEvent, onFrame, sub, badSub, problem };
`,
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const { stdout } = await run(process.execPath, [tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", join(dir, "program.ts")]).catch((e) => e);
    expect(stdout).toBe("");
  }, 60_000);
});
