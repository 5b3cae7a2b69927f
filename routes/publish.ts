/** `POST /v1/publish/{subject}` (one event) and `POST /v1/publish` (a batch). */
import { Hono } from "hono";
import type { CoreGateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { auditBatch, parseBatch, publishBatch } from "../src/publish/batch.js";
import { readBody } from "../src/http/body.js";
import { eventFromHttp } from "../src/events/event.js";
import { subjectParam } from "../src/http/problem.js";
import { auditTrail, authenticate } from "../src/security/middleware.js";
import { publishStatus } from "../src/publish/publisher.js";
import { requestFields } from "../src/telemetry/http.js";

/** Publish routes, mounted at `/v1/publish`. */
export function publishRoutes(gw: CoreGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(authenticate(gw));

  app.post("/:subject", auditTrail(gw, "publish"), async (c) => {
    const subject = subjectParam(c, "/v1/publish/");
    c.set("audit", { subject, msgId: c.req.header("idempotency-key") });
    const body = await readBody(c.req.raw, gw.bodyLimit());
    const result = await gw.publisher.publish(eventFromHttp(gw.rules, c.get("principal"), subject, c.req.raw.headers, body), c.get("trace"));
    c.set("audit", { ...c.get("audit"), stream: result.stream, seq: result.seq });
    return c.json(result, publishStatus(result));
  });

  app.post("/", async (c) => {
    const { maxBatchBytes, maxBatchItems } = gw.config.server;
    const body = await readBody(c.req.raw, maxBatchBytes);
    const items = parseBatch(body, c.req.header("content-type"), maxBatchItems, gw.config.server.maxJsonDepth);
    gw.metrics.batch(items.length);
    const results = await publishBatch(items, gw.rules, c.get("principal"), gw.publisher, gw.bodyLimit(), c.get("trace"));
    auditBatch(gw.audit, items, results, c.get("principal"), c.get("remote"), requestFields(c));
    return c.json({ results });
  });

  return app;
}
