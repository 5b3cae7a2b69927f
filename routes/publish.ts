/** `POST /v1/publish/{subject}` (one event) and `POST /v1/publish` (a batch). */
import { Hono } from "hono";
import type { Gateway } from "../src/app.js";
import { parseBatch, publishBatch } from "../src/batch.js";
import { readBody } from "../src/body.js";
import { eventFromHttp } from "../src/event.js";
import { subjectParam } from "../src/http.js";
import { publishStatus } from "../src/publisher.js";

/** Publish routes, mounted at `/v1/publish`. */
export function publishRoutes(gw: Gateway): Hono {
  const app = new Hono();

  app.post("/:subject", async (c) => {
    const subject = subjectParam(c, "/v1/publish/");
    const body = await readBody(c.req.raw, gw.bodyLimit());
    const result = await gw.publisher.publish(eventFromHttp(gw.rules, subject, c.req.raw.headers, body));
    return c.json(result, publishStatus(result));
  });

  app.post("/", async (c) => {
    const { maxBatchBytes, maxBatchItems } = gw.config.server;
    const body = await readBody(c.req.raw, maxBatchBytes);
    const items = parseBatch(body, c.req.header("content-type"), maxBatchItems);
    const results = await publishBatch(items, gw.rules, gw.publisher, gw.bodyLimit());
    return c.json({ results });
  });

  return app;
}
