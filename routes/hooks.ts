/** `POST /v1/hooks/{name}`: verified inbound webhooks, published to NATS. */
import { who } from "../src/security/audit.js";
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import type { Principal } from "../src/security/auth.js";
import { readBody } from "../src/http/body.js";
import { ConflictError, NotFoundError, UnauthorizedError } from "../src/errors.js";
import { eventFromHttp } from "../src/events/event.js";
import { MSG_ID_HEADER } from "../src/nats/headers.js";
import { sourcePrincipal, verifyDelivery, type InboundSource } from "../src/publish/inbound.js";
import { remoteAddress } from "../src/http/remote.js";
import { publishStatus } from "../src/publish/publisher.js";
import { requestFields } from "../src/telemetry/http.js";

/** Inbound webhook routes; the signature is the credential, no bearer token. */
export function hookRoutes(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const sources = new Map<string, { source: InboundSource; principal: Principal }>(
    gw.config.inbound.map((s) => [s.name, { source: s, principal: sourcePrincipal(s) }]),
  );

  app.post("/v1/hooks/:name", async (c) => {
    const name = c.req.param("name");
    const entry = sources.get(name);
    if (!entry) throw new NotFoundError(`no inbound webhook named ${name}`);
    const { source, principal } = entry;
    const remote = remoteAddress(c, gw.config.server.trustProxy, gw.peerAddress);
    const body = await readBody(c.req.raw, gw.bodyLimit());
    let delivery;
    try {
      delivery = verifyDelivery(source, c.req.raw.headers, body, gw.clock.now());
    } catch (err) {
      if (err instanceof UnauthorizedError) {
        gw.audit.record({ action: "auth", outcome: "unauthenticated", status: 401, client: `hook:${name}`, clientKind: "hook", remote, detail: err.message, ...requestFields(c) });
      }
      throw err;
    }
    const event = eventFromHttp(gw.rules, principal, source.subject, c.req.raw.headers, body);
    event.headers.set(MSG_ID_HEADER, delivery.id);
    const result = await gw.publisher.publish(event, c.get("trace"));
    gw.audit.record({ action: "publish", outcome: result.duplicate ? "failed" : "ok", status: result.duplicate ? 409 : publishStatus(result), ...who(principal), remote, subject: source.subject, msgId: delivery.id, stream: result.stream, seq: result.seq, ...requestFields(c) });
    if (result.duplicate) throw new ConflictError(`delivery ${delivery.id} was already received (seq ${result.seq})`);
    return c.json(result, publishStatus(result));
  });
  return app;
}
