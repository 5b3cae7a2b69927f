/** `GET /v1/schemas`, `GET /v1/schemas/{subject}` and `GET /openapi.json`. */
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { authenticate } from "../src/security/middleware.js";
import { NotFoundError } from "../src/errors.js";
import { subjectParam } from "../src/http/problem.js";
import { openApiDocument } from "../src/http/openapi.js";
import { webhookOpenApi } from "../src/webhooks/openapi.js";
import { streamOpenApi } from "../src/subscribe/openapi.js";
import { inboundOpenApi } from "../src/publish/openapi.js";
import { consoleOpenApi } from "../src/http/console-openapi.js";
import { VERSION } from "../src/version.js";

/** Schema discovery routes. */
export function schemaRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let openapi: string | undefined;
  app.use("/v1/schemas/*", authenticate(gw));
  app.use("/v1/schemas", authenticate(gw));

  app.get("/v1/schemas", (c) =>
    c.json({
      schemas: gw.registry.list().map((e) => ({
        subject: e.subject,
        description: e.description,
        source: e.source === "builtin" ? "builtin" : "file",
        schema: gw.registry.jsonSchema(e),
      })),
    }),
  );

  app.get("/v1/schemas/:subject", (c) => {
    const subject = subjectParam(c, "/v1/schemas/");
    const entry = gw.registry.get(subject) ?? gw.registry.lookup(subject);
    if (!entry) throw new NotFoundError(`no schema is registered for ${subject}`);
    return c.body(JSON.stringify(gw.registry.jsonSchema(entry)), 200, {
      "content-type": "application/schema+json",
      "x-natsgate-subject": entry.subject,
    });
  });

  app.get("/openapi.json", (c) => {
    openapi ??= JSON.stringify(openApiDocument(
      VERSION,
      gw.registry.list().map((e) => ({ subject: e.subject, jsonSchema: gw.registry.jsonSchema(e) as Record<string, unknown> })),
      [streamOpenApi, inboundOpenApi, webhookOpenApi, consoleOpenApi],
    ));
    return c.body(openapi, 200, { "content-type": "application/json" });
  });

  return app;
}
