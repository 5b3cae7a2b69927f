import { afterEach, describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { signToken } from "../support/jwt.js";
import { rawSse, sseClient, type SseClient } from "../support/sse.js";
import { wsClient } from "../support/ws.js";

const AGENT = "agent-token-0123456789abcdef";
const PORTAL = "portal-token-0123456789abcdef";
const SECRET = "subscribe-auth-hmac-secret-0123456789";

describe("subscribe (SSE) with auth", () => {
  const f = useGateway({
    auth: {
      mode: "required",
      clients: [
        { name: "agent", token: AGENT, subscribe: { allow: ["deploy.request", "cluster.*.nodeAdded"] } },
        { name: "portal", token: PORTAL, publish: { allow: [">"] } },
      ],
      jwt: { secret: SECRET },
    },
    rateLimit: { perSecond: 1000, burst: 1000, maxStreams: 2 },
  });
  const post = publishVia(() => f.gw);
  const clients: SseClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  const url = (query: string) => `${f.gw.url}/v1/subscribe?${query}`;

  it("sse auth - the token may come from the header, access_token or the natsgate_token cookie", async () => {
    const viaHeader = sseClient(url("subject=deploy.request"), { authorization: `Bearer ${AGENT}` });
    const viaCookie = sseClient(url("subject=deploy.request"), { cookie: `theme=dark; natsgate_token=${AGENT}` });
    clients.push(viaHeader, viaCookie);
    await Promise.all([viaHeader.opened, viaCookie.opened]);
    const request = { deploymentId: "d-1", cluster: "dev", manifest: "app@1", requestedBy: "portal", requestedAt: "2026-11-24T20:00:00Z" };
    expect((await post("deploy.request", JSON.stringify(request), { authorization: `Bearer ${PORTAL}` })).status).toBe(202);
    for (const c of [viaHeader, viaCookie]) expect(JSON.parse((await c.next(1))[0]!.data).data).toEqual(request);
    viaHeader.close();
    viaCookie.close();
    // Closing frees the client's stream slots (maxStreams is 2 here).
    await expect.poll(() => f.gw.app.gateway.streamSlots!.count("token:agent"), { timeout: 5_000 }).toBe(0);
    const viaQuery = await rawSse(url(`subject=deploy.request&access_token=${AGENT}`));
    expect(viaQuery.res.status).toBe(200);
    viaQuery.close();
    const none = await f.gw.fetch("/v1/subscribe?subject=deploy.request");
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
  });

  it.each([
    ["cluster.*.nodeAdded", 200],
    ["cluster.dev.nodeAdded", 200],
    ["cluster.>", 403],
    ["cluster.*.*", 403],
    ["deploy.>", 403],
    [">", 403],
  ])("sse auth - allow cluster.*.nodeAdded: subscribing %s is %i (containment)", async (subject, status) => {
    if (status === 403) {
      const res = await fetch(url(`subject=${encodeURIComponent(subject)}&access_token=${AGENT}`));
      expect(res.status).toBe(403);
      expect((await res.json()).detail).toBe(`client agent may not subscribe to ${subject}`);
      return;
    }
    const raw = await rawSse(url(`subject=${encodeURIComponent(subject)}&access_token=${AGENT}`));
    expect(raw.res.status).toBe(status);
    raw.close();
    await raw.ended;
  });

  it("sse auth - at most rateLimit.maxStreams concurrent streams per client; a closed one frees its slot", async () => {
    const a = await rawSse(url(`subject=deploy.request&access_token=${AGENT}`));
    const b = await rawSse(url(`subject=deploy.request&access_token=${AGENT}`));
    const third = await f.gw.fetch(`/v1/subscribe?subject=deploy.request&access_token=${AGENT}`);
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ detail: "at most 2 concurrent streams per client" });
    a.close();
    await expect.poll(() => f.gw.app.gateway.streamSlots!.count("token:agent"), { timeout: 5_000 }).toBe(1);
    const again = await rawSse(url(`subject=deploy.request&access_token=${AGENT}`));
    expect(again.res.status).toBe(200);
    again.close();
    b.close();
  });

  it("sse auth - a JWT whose sub is a static client's name has stream slots of its own and is audited as a JWT client", async () => {
    const impostor = await signToken(new TextEncoder().encode(SECRET), { subject: "agent", claims: { natsgate: { subscribe: { allow: ["deploy.request"] } } } });
    const a = await rawSse(url(`subject=deploy.request&access_token=${impostor}`));
    const b = await rawSse(url(`subject=deploy.request&access_token=${impostor}`));
    expect((await f.gw.fetch(`/v1/subscribe?subject=deploy.request&access_token=${impostor}`)).status).toBe(429);
    // The static client "agent" is untouched by the JWT's use of the name.
    const real = await rawSse(url(`subject=deploy.request&access_token=${AGENT}`));
    expect(real.res.status).toBe(200);
    for (const s of [a, b, real]) s.close();
    const subscribed = f.gw.audit.filter((r) => r.action === "subscribe" && r.client === "agent").slice(-3);
    expect(subscribed.map((r) => r.clientKind)).toEqual(["jwt", "jwt", "token"]);
  });

  it("sse auth - a stream is ended with event: expired when its JWT expires", async () => {
    const token = await signToken(new TextEncoder().encode(SECRET), { subject: "dashboard", expiresIn: 1, claims: { natsgate: { subscribe: { allow: ["deploy.request"] } } } });
    const raw = await rawSse(url(`subject=deploy.request&access_token=${token}`));
    expect(raw.res.status).toBe(200);
    await raw.ended;
    expect(raw.text().endsWith('event: expired\ndata: {"reason":"expired"}\n\n')).toBe(true);
    expect(f.gw.audit.some((r) => r.action === "subscribe" && r.client === "dashboard" && r.outcome === "ok")).toBe(true);
  });

  it("audit - SSE subscriptions and WebSocket frames carry the id of the request they came on; a pub frame's own trace id goes with it", async () => {
    f.gw.audit.length = 0;
    const sse = await rawSse(url("subject=deploy.request"), { headers: { authorization: `Bearer ${AGENT}`, "x-request-id": "sse-req-1" } });
    expect(sse.res.headers.get("x-request-id")).toBe("sse-req-1");
    sse.close();
    const ws = await wsClient(`${f.gw.url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${PORTAL}`, "x-request-id": "ws-upgrade-1" });
    ws.send({ op: "pub", id: 1, subject: "misc.traced", data: {}, headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
    ws.send({ op: "pub", id: 2, subject: "misc.plain", data: {} });
    // Publishes are audited when NATS confirms them: wait, so the records come in this order.
    await ws.next((m) => m.op === "ack" && m.id === 2);
    ws.send({ op: "sub", sid: "s1", subject: "deploy.request" });
    expect(await ws.next((m) => m.op === "err")).toMatchObject({ sid: "s1", status: 403 });
    ws.close();
    expect(f.gw.audit.map(({ action, outcome, subject, requestId, traceId }) => ({ action, outcome, subject, requestId, traceId }))).toEqual([
      { action: "subscribe", outcome: "ok", subject: "deploy.request", requestId: "sse-req-1", traceId: undefined },
      { action: "publish", outcome: "ok", subject: "misc.traced", requestId: "ws-upgrade-1", traceId: "4bf92f3577b34da6a3ce929d0e0e4736" },
      { action: "publish", outcome: "ok", subject: "misc.plain", requestId: "ws-upgrade-1", traceId: undefined },
      { action: "subscribe", outcome: "denied", subject: "deploy.request", requestId: "ws-upgrade-1", traceId: undefined },
    ]);
  });
});
