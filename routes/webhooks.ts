/**
 * The outbound-webhook admin API (admin permission): `/v1/webhooks` CRUD,
 * recent deliveries, test deliveries, replays, and the dead letters.
 */
import { Hono, type Context } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { parseJson, readBody } from "../src/http/body.js";
import { BadRequestError } from "../src/errors.js";
import { adminOnly } from "../src/security/middleware.js";
import { MAX_LIST_LIMIT, WebhookAdmin } from "../src/webhooks/admin.js";
import { WEBHOOK_ID } from "../src/config/webhook.js";

/** Largest webhook definition accepted: 64 KiB. */
const MAX_DEFINITION_BYTES = 64 * 1024;

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  return parseJson(await readBody(c.req.raw, MAX_DEFINITION_BYTES));
}

function intParam(c: Context<AppEnv>, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BadRequestError(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** The `{id}` of a webhook path; 400 when it is not a webhook id (it would name consumers and keys). */
function webhookId(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!WEBHOOK_ID.test(id)) throw new BadRequestError("a webhook id is 1 to 64 letters, digits, '-' and '_'");
  return id;
}

/** Webhook and dead-letter routes. */
export function webhookRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const admin = new WebhookAdmin(gw.webhooks, () => gw.clock.now());
  // "/x/*" also matches "/x" in Hono: listing both ran authentication and the audit twice.
  for (const path of ["/v1/webhooks/*", "/v1/dead-letters/*"]) {
    app.use(
      path,
      ...adminOnly(gw, (c) => {
        const [, , kind, id] = c.req.path.split("/");
        return kind === "dead-letters" ? "dead-letters" : id ? `webhook:${id}` : "webhooks";
      }),
    );
  }

  app.get("/v1/webhooks", (c) => c.json({ webhooks: admin.list() }));
  app.post("/v1/webhooks", async (c) => {
    const hook = await admin.create(await jsonBody(c));
    c.header("location", `/v1/webhooks/${hook.id}`);
    return c.json(hook, 201);
  });
  app.get("/v1/webhooks/:id", (c) => c.json(admin.get(webhookId(c))));
  app.put("/v1/webhooks/:id", async (c) => {
    const { created, webhook } = await admin.replace(webhookId(c), await jsonBody(c));
    if (created) c.header("location", `/v1/webhooks/${webhook.id}`);
    return c.json(webhook, created ? 201 : 200);
  });
  app.delete("/v1/webhooks/:id", async (c) => {
    await admin.delete(webhookId(c));
    return c.body(null, 204);
  });
  app.get("/v1/webhooks/:id/deliveries", async (c) =>
    c.json({ deliveries: await admin.deliveries(webhookId(c), intParam(c, "limit", 50, 1, MAX_LIST_LIMIT)) }),
  );
  app.post("/v1/webhooks/:id/test", async (c) => c.json(await admin.test(webhookId(c))));
  app.post("/v1/webhooks/:id/replay", async (c) => c.json(await admin.replay(webhookId(c), await jsonBody(c)), 202));

  app.get("/v1/dead-letters", async (c) => {
    const after = intParam(c, "after", 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c, "limit", 100, 1, MAX_LIST_LIMIT);
    const letters = await admin.deadLetters(c.req.query("webhook"), after, limit);
    return c.json({ deadLetters: letters, ...(letters.length === limit ? { next: letters[letters.length - 1]!.id } : {}) });
  });
  app.post("/v1/dead-letters/:id/retry", async (c) => {
    const id = c.req.param("id");
    if (!/^\d{1,15}$/.test(id) || Number(id) < 1) throw new BadRequestError("a dead letter id is a positive integer");
    return c.json(await admin.retryDeadLetter(Number(id)));
  });
  return app;
}
