/**
 * `@natsgate/client`'s browser build (client/dist, as the gateway serves it
 * under /console/client/) in headless Chromium against a real gateway and
 * nats-server (issue 17): the browser's own fetch streaming, WebSocket and
 * error classes, not Node's.
 */
import { jetstream } from "@nats-io/jetstream";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client/src/index.js";
import { transferCompleted } from "../fixtures/events.js";
import { launchBrowser } from "../support/browser.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { natsConnect } from "../support/nats.js";
import { NatsServer } from "../support/nats-server.js";

const TOKEN = "browser-token-0123456789abcdef";
const OPS = "browser-ops-0123456789abcdef";
const config = (port = 0) => ({
  server: { port },
  auth: {
    mode: "required" as const,
    clients: [
      { name: "web", token: TOKEN, publish: { allow: ["br.>", "transfer.completed"] }, subscribe: { allow: ["br.>"] } },
      { name: "ops", token: OPS, admin: true },
    ],
  },
  jetstream: { streams: [{ name: "BROWSER", subjects: ["br.>"] }] },
});

/** What the page keeps between evaluations: events and states, by name. */
declare global {
  interface Window {
    /** The browser build, as the page imported it from the gateway. */
    natsgate: typeof import("../../client/src/index.js");
    seen: Record<string, unknown[]>;
    running: Record<string, { close(): void; closed: Promise<unknown> }>;
  }
}

describe("client - the browser build in Chromium", () => {
  let server: NatsServer;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const publisher = () => createClient({ url: gw.url, token: TOKEN });
  /** Polls the page until `seen[name]` holds `n` items; returns them. */
  const seen = async (name: string, n: number) => {
    await expect.poll(() => page.evaluate((k) => window.seen[k]?.length ?? 0, name), { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(n);
    return page.evaluate((k) => window.seen[k]!, name);
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, config());
    browser = await launchBrowser();
    page = await browser.newPage();
    // A blank page of the gateway's origin: the client's calls are same-origin, as the console's are.
    const html = `<!doctype html><title>client</title><script type="module">import * as m from "/console/client/index.js"; window.natsgate = m;</script>`;
    await page.route(`${gw.url}/blank.html`, (r) => r.fulfill({ contentType: "text/html", body: html }));
    await page.goto(`${gw.url}/blank.html`);
    await page.waitForFunction(() => window.natsgate !== undefined);
    await page.evaluate(() => {
      window.seen = {};
      window.running = {};
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await server?.cleanup();
  });

  it("publish, batch and typed errors: the browser build's classes carry the problem", async () => {
    const out = await page.evaluate(
      async ({ token, invalidBody }) => {
        const m = window.natsgate;
        const c = m.createClient({ url: location.origin, token, maxRetries: 0 });
        const fail = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & Record<string, unknown>) => ({ name: e.name, status: e.status, detail: e.detail, errors: e.errors, typed: e instanceof m.ProblemError }));
        return {
          stored: await c.publish("br.one", { n: 1 }, { idempotencyKey: "b-1" }),
          again: await c.publish("br.one", { n: 1 }, { idempotencyKey: "b-1" }),
          batch: (await c.publishBatch([{ subject: "br.two", data: 2 }, { subject: "elsewhere", data: 3 }])).map((r: { status: number }) => r.status),
          invalid: await fail(c.publish("transfer.completed", invalidBody)),
          forbidden: await fail(c.publish("elsewhere", {})),
          unknown: await fail(m.createClient({ url: location.origin, token: "not-a-token-0123456789" }).publish("br.x", {})),
        };
      },
      { token: TOKEN, invalidBody: { ...transferCompleted, sizeBytes: "big" } },
    );
    expect(out.stored).toEqual({ subject: "br.one", stream: "BROWSER", seq: 1, duplicate: false });
    expect(out.again).toEqual({ ...out.stored, duplicate: true });
    expect(out.batch).toEqual([201, 403]);
    expect(out.invalid).toMatchObject({ name: "ValidationError", status: 422, typed: true, errors: [{ path: "/sizeBytes" }] });
    expect(out.forbidden).toEqual({ name: "ForbiddenError", status: 403, detail: "client web may not publish to elsewhere", errors: [], typed: true });
    expect(out.unknown).toMatchObject({ name: "UnauthorizedError", status: 401, detail: "unknown token" });
  });

  it("subscribe over the browser's fetch streaming resumes across a gateway restart: no gap, no duplicate", async () => {
    const port = Number(new URL(gw.url).port);
    await page.evaluate(async (token) => {
      const m = window.natsgate;
      const c = m.createClient({ url: location.origin, token });
      window.seen.sse = [];
      window.seen.sseStates = [];
      window.running.sse = c.subscribe("br.sse", { onEvent: (e: { data: { n: number } }) => void window.seen.sse!.push(e.data.n), onStatus: (s: { state: string }) => void window.seen.sseStates!.push(s.state) });
    }, TOKEN);
    await expect.poll(() => page.evaluate(() => window.seen.sseStates!.includes("live"))).toBe(true);
    for (let n = 0; n < 10; n++) await publisher().publish("br.sse", { n });
    await seen("sse", 10);

    await gw.close();
    const nc = await natsConnect(server.url);
    const js = jetstream(nc);
    for (let n = 10; n < 20; n++) await js.publish("br.sse", JSON.stringify({ n }));
    await nc.close();
    gw = await startGateway(server.url, config(port));
    await seen("sse", 20);
    for (let n = 20; n < 25; n++) await publisher().publish("br.sse", { n });
    const got = await seen("sse", 25);
    await page.evaluate(() => window.running.sse!.close());
    expect(got).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(await page.evaluate(() => window.seen.sseStates!.includes("retrying"))).toBe(true);
  }, 40_000);

  it("socket on the browser's WebSocket: acks, and after an operator ends the session it resubscribes from its cursor", async () => {
    await page.evaluate(async (token) => {
      const m = window.natsgate;
      window.seen.ws = [];
      window.seen.wsStates = [];
      const socket = m.createClient({ url: location.origin, token }).socket({ onStatus: (s: { state: string }) => void window.seen.wsStates!.push(s.state) });
      window.running.ws = socket;
      socket.subscribe("br.ws.>", (msg: { data: { n: number } }) => void window.seen.ws!.push(msg.data.n));
      await new Promise<void>((resolve) => {
        const wait = () => (window.seen.wsStates!.includes("open") ? resolve() : setTimeout(wait, 20));
        wait();
      });
      // Frames are answered in order: once this is acked, the subscription is in place.
      window.seen.ack = [await socket.publish("br.ws.a", { n: 0 })];
    }, TOKEN);
    expect((await page.evaluate(() => window.seen.ack![0])) as object).toMatchObject({ status: 201, subject: "br.ws.a", stream: "BROWSER" });
    for (let n = 1; n < 10; n++) await publisher().publish("br.ws.a", { n });
    await seen("ws", 10);

    const list = await (await gw.fetch("/v1/connections?client=web", { headers: { authorization: `Bearer ${OPS}` } })).json();
    const sessions = (list.connections as { id: string; transport: string }[]).filter((c) => c.transport === "ws");
    expect(sessions.length).toBe(1);
    expect((await gw.fetch(`/v1/connections/${sessions[0]!.id}`, { method: "DELETE", headers: { authorization: `Bearer ${OPS}` } })).status).toBe(204);
    for (let n = 10; n < 20; n++) await publisher().publish("br.ws.b", { n });
    const got = await seen("ws", 20);
    expect(got).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await page.evaluate(() => window.seen.wsStates!.filter((s) => s === "open").length)).toBe(2);
    await page.evaluate(async () => {
      window.running.ws!.close();
      await window.running.ws!.closed;
    });
  });

  it("socket backpressure in the browser: a slow consumer's socket is let go and reopened from its cursor, every message once and in order", async () => {
    await page.evaluate(async (token) => {
      const m = window.natsgate;
      window.seen.slow = [];
      window.seen.slowStates = [];
      const socket = m.createClient({ url: location.origin, token }).socket({ maxQueued: 5, onStatus: (s: { state: string }) => void window.seen.slowStates!.push(s.state) });
      window.running.slow = socket;
      socket.subscribe("br.slow", async (msg: { data: { n: number } }) => {
        await new Promise((r) => setTimeout(r, 5));
        window.seen.slow!.push(msg.data.n);
      });
      await new Promise<void>((resolve) => {
        const wait = () => (window.seen.slowStates!.includes("open") ? resolve() : setTimeout(wait, 20));
        wait();
      });
      await socket.publish("br.slow", { n: 0 });
    }, TOKEN);
    const results = await publisher().publishBatch(Array.from({ length: 60 }, (_, i) => ({ subject: "br.slow", data: { n: i + 1 } })));
    expect(results.filter((r) => r.status !== 201)).toEqual([]);
    await seen("slow", 61);
    await new Promise((r) => setTimeout(r, 300));
    const got = await page.evaluate(() => window.seen.slow!);
    expect(got).toEqual(Array.from({ length: 61 }, (_, n) => n));
    const states = (await page.evaluate(() => window.seen.slowStates!)) as string[];
    expect(states.filter((s) => s === "behind").length).toBeGreaterThanOrEqual(1);
    expect(states.filter((s) => s === "open").length).toBe(states.filter((s) => s === "behind").length + 1);
    await page.evaluate(async () => {
      window.running.slow!.close();
      await window.running.slow!.closed;
    });
  });

  it("socket: a refused upgrade, which a browser cannot read, still ends with the typed 401 (asked of the HTTP API)", async () => {
    const out = await page.evaluate(async () => {
      const m = window.natsgate;
      const states: string[] = [];
      const socket = m.createClient({ url: location.origin, token: "not-a-token-0123456789" }).socket({ onStatus: (s) => void states.push(s.state) });
      const error = await socket.closed;
      return { states, error: error && { name: error.name, status: error.status, detail: error.detail, typed: error instanceof m.UnauthorizedError } };
    });
    expect(out).toEqual({ states: ["connecting", "closed"], error: { name: "UnauthorizedError", status: 401, detail: "unknown token", typed: true } });
  });

  it("a page whose clock runs a minute ahead: before their first event, SSE and the socket resume from the gateway's time, and miss nothing", async () => {
    const port = Number(new URL(gw.url).port);
    await page.evaluate(async (token) => {
      // Every Date the page makes from now on is 60 s ahead of the gateway's.
      const Real = Date;
      class Ahead extends Real {
        constructor(...args: unknown[]) {
          super(...((args.length ? args : [Real.now() + 60_000]) as [number]));
        }
        static override now() {
          return Real.now() + 60_000;
        }
      }
      (window as unknown as { RealDate: DateConstructor }).RealDate = Real;
      window.Date = Ahead as DateConstructor;
      const c = window.natsgate.createClient({ url: location.origin, token });
      window.seen.skewSse = [];
      window.seen.skewSseStates = [];
      window.seen.skewWs = [];
      window.seen.skewWsStates = [];
      window.running.skewSse = c.subscribe("br.skew.sse", { onEvent: (e: { data: { n: number } }) => void window.seen.skewSse!.push(e.data.n), onStatus: (s) => void window.seen.skewSseStates!.push(s.state) });
      const socket = c.socket({ onStatus: (s) => void window.seen.skewWsStates!.push(s.state) });
      window.running.skewWs = socket;
      socket.subscribe("br.skew.ws", (m: { data: { n: number } }) => void window.seen.skewWs!.push(m.data.n));
      await socket.request("br.skew.none", {}).catch(() => {});
    }, TOKEN);
    await expect.poll(() => page.evaluate(() => window.seen.skewSseStates!.includes("live"))).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    // Down and back, with events stored meanwhile on both subjects.
    await gw.close();
    const nc = await natsConnect(server.url);
    const js = jetstream(nc);
    for (let n = 0; n < 5; n++) for (const s of ["br.skew.sse", "br.skew.ws"]) await js.publish(s, JSON.stringify({ n }));
    await nc.close();
    gw = await startGateway(server.url, config(port));
    // Open again after the restart (a reconnect racing the shutdown may open once more in between).
    const again = (key: string, state: string) => page.evaluate(([k, st]) => window.seen[k!]!.lastIndexOf(st) > window.seen[k!]!.lastIndexOf("retrying"), [key, state]);
    await expect.poll(() => again("skewWsStates", "open"), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => again("skewSseStates", "live"), { timeout: 20_000 }).toBe(true);
    for (const s of ["br.skew.sse", "br.skew.ws"]) await publisher().publish(s, { n: 5 });
    const all = Array.from({ length: 6 }, (_, n) => n);
    expect([await seen("skewSse", 6), await seen("skewWs", 6)]).toEqual([all, all]);
    await page.evaluate(() => {
      window.Date = (window as unknown as { RealDate: DateConstructor }).RealDate;
      window.running.skewSse!.close();
      window.running.skewWs!.close();
    });
  }, 40_000);

  it("an onEvent that throws is reported as the page's error, and the stream goes on with the next event", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.evaluate(async (token) => {
      window.seen.throwing = [];
      window.seen.throwingStates = [];
      window.running.throwing = window.natsgate.createClient({ url: location.origin, token }).subscribe("br.throw", {
        onEvent: (e: { data: { n: number } }) => {
          window.seen.throwing!.push(e.data.n);
          if (e.data.n === 1) throw new Error("a bug in the consumer");
        },
        onStatus: (s) => void window.seen.throwingStates!.push(s.state),
      });
    }, TOKEN);
    await expect.poll(() => page.evaluate(() => window.seen.throwingStates!.includes("live"))).toBe(true);
    for (let n = 0; n < 4; n++) await publisher().publish("br.throw", { n });
    expect(await seen("throwing", 4)).toEqual([0, 1, 2, 3]);
    await expect.poll(() => errors).toEqual(["a bug in the consumer"]);
    expect(await page.evaluate(() => window.seen.throwingStates!.filter((s) => s === "live").length)).toBe(1);
    await page.evaluate(() => window.running.throwing!.close());
  });
});
