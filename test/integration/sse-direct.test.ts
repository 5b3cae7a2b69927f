/**
 * On Node, SSE frames are written straight to the socket (src/node/sse-output.ts)
 * while the head still comes from the Hono app. These cases run the same
 * subscription through a real socket (direct) and through `app.request` (Hono's
 * stream, the path Workers take) and compare what a client sees.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { publishVia, useGateway } from "../support/fixture.js";
import { rawSse } from "../support/sse.js";
import { gatewaySubjects } from "../support/nats.js";

const ORIGIN = "https://app.example";

/** True once a whole data frame has arrived. */
const hasFrame = (t: string) => t.includes("data:") && t.includes("\n\n", t.indexOf("data:"));

/** Reads a web stream's text until `predicate` holds. */
async function readUntil(body: ReadableStream<Uint8Array>, predicate: (t: string) => boolean): Promise<{ text: string; cancel: () => Promise<void> }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!predicate(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { text, cancel: () => reader.cancel() };
}

describe("SSE written directly to Node's response", () => {
  const f = useGateway({
    server: { cors: { origins: [ORIGIN] } },
    rateLimit: { perSecond: 1000, burst: 1000 },
    sse: { heartbeatMs: 60_000 },
  });
  const post = publishVia(() => f.gw);
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it("sse direct - the head has every middleware's headers and the frames are byte for byte those of Hono's stream", async () => {
    const headers = { origin: ORIGIN, "x-request-id": "sse-direct-1" };
    const direct = await rawSse(`${f.gw.url}/v1/subscribe?subject=direct.%3E`, { headers });
    closers.push(direct.close);
    const viaHono = await f.gw.app.request("/v1/subscribe?subject=direct.%3E", { headers });
    expect(direct.res.status).toBe(200);
    expect(viaHono.status).toBe(200);

    const names = (h: Headers) => [...h.keys()].filter((k) => k !== "date" && k !== "transfer-encoding" && k !== "keep-alive").sort();
    const fromApp = Object.fromEntries([...viaHono.headers].filter(([k]) => names(viaHono.headers).includes(k)));
    // Everything the app says is in the direct head, unchanged, plus the listener's security headers.
    expect(Object.fromEntries([...direct.res.headers].filter(([k]) => k in fromApp))).toEqual(fromApp);
    expect(names(direct.res.headers)).toEqual(
      [...names(viaHono.headers), "x-content-type-options", "x-frame-options", "referrer-policy", "x-xss-protection", "x-permitted-cross-domain-policies"].sort(),
    );
    expect(fromApp).toMatchObject({
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      "access-control-allow-origin": ORIGIN,
      "access-control-allow-credentials": "true",
      vary: "Origin",
      "x-request-id": "sse-direct-1",
      "ratelimit-limit": "1000",
    });
    expect(direct.res.headers.get("transfer-encoding")).toBe("chunked");

    // Both clients share one feed, so one rendered frame reaches both: the bytes must match.
    await direct.until((t) => t.includes("retry:"));
    expect((await post("direct.one", JSON.stringify({ n: 1 }))).status).toBe(202);
    const hono = await readUntil(viaHono.body!, hasFrame);
    closers.push(hono.cancel);
    const sent = await direct.until(hasFrame);
    expect(sent).toBe(hono.text);
    expect(sent).toMatch(/^retry: 2000\n\ndata: \{"subject":"direct\.one","data":\{"n":1\},"headers":\{"Content-Type":"application\/json"\},"time":"[^"]+"\}\n\n$/);
  });

  it("sse direct - a client that leaves frees its slot and its NATS subscription; a refusal is still problem+json", async () => {
    const live = async () => ((await (await f.gw.fetch("/v1/connections")).json()) as { connections: unknown[] }).connections.length;
    const before = await live();
    const c = await rawSse(`${f.gw.url}/v1/subscribe?subject=leave.x`);
    await c.until((t) => t.includes("retry:"));
    await expect.poll(live).toBe(before + 1);
    c.close();
    await expect.poll(live).toBe(before);

    const bad = await fetch(`${f.gw.url}/v1/subscribe?subject=bad..subject`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    expect(bad.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("sse direct - a connection Node closed while the route ran leaves no session behind", async () => {
    const live = async () => ((await (await f.gw.fetch("/v1/connections")).json()) as { connections: unknown[] }).connections.length;
    const before = await live();
    // An unknown Transfer-Encoding on a GET: Node answers and closes the socket before the handler has finished.
    const socket = connect(Number(new URL(f.gw.url).port), "127.0.0.1");
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.write("GET /v1/subscribe?subject=gone.x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: keep-alive\r\n\r\n");
    await closed;
    await expect.poll(live).toBe(before);
    await expect.poll(() => gatewaySubjects(f.server.monitorUrl)).not.toContain("gone.x");
  });

  it("sse direct - at shutdown every stream gets its final event and ends", async () => {
    const c = await rawSse(`${f.gw.url}/v1/subscribe?subject=bye.x`);
    closers.push(c.close);
    await c.until((t) => t.includes("retry:"));
    const gw = f.gw.app.gateway;
    const session = [...gw.sessions].at(-1)!;
    // A socket client is served by the direct output, not Hono's stream.
    expect((session as unknown as { out: object }).out.constructor.name).toBe("DirectSseOutput");
    session.end("shutdown");
    await c.ended;
    expect(c.text()).toBe('retry: 2000\n\nevent: shutdown\ndata: {"reason":"shutdown"}\n\n');
  });
});
