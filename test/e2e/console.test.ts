import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.js";
import { NatsServer } from "../support/nats-server.js";
import { startSink, type Sink } from "../support/sink.js";
import { natsConnect } from "../support/nats.js";
import { freePort, runGateway, type GatewayProcess } from "../support/process.js";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("console page (headless Chromium), auth off", () => {
  let server: NatsServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let gateway: GatewayProcess;
  let url: string;
  let env: Record<string, string>;
  let sink: Sink;

  async function startGateway(): Promise<void> {
    gateway = runGateway([], env);
    await gateway.waitForLog("natsgate listening");
    await gateway.waitForLog("connected to NATS");
  }

  const publish = (subject: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/publish/${subject}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
  const item = (subject: string) => page.locator(`#events li[data-subject="${subject}"]`);

  beforeAll(async () => {
    server = await NatsServer.start();
    sink = await startSink();
    const port = await freePort();
    const config = join(mkdtempSync(join(tmpdir(), "natsgate-e2e-")), "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        jetstream: { streams: [{ name: "DEMO", subjects: ["demo.>"] }, { name: "EVENTS", subjects: ["transfer.>"] }, { name: "OPS", subjects: ["ops.>"] }] },
        webhooks: { allowPrivateNetworks: true, endpoints: [{ id: "billing", subjects: ["transfer.completed"], url: "https://billing.example/hooks", enabled: false }] },
      }),
    );
    env = { PATH: process.env.PATH ?? "", NATS_URL: server.url, PORT: String(port), HOST: "127.0.0.1", NATSGATE_CONFIG: config, LOG_LEVEL: "info" };
    url = `http://127.0.0.1:${port}`;
    await startGateway();
    browser = await launchBrowser();
    context = await browser.newContext();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (gateway && gateway.child.exitCode === null) {
      gateway.child.kill("SIGTERM");
      await gateway.exited;
    }
    await server?.cleanup();
    await sink?.close();
  });
  const stat = (name: string) => page.textContent(`#ops [data-stat="${name}"]`);
  const statState = (name: string) => page.getAttribute(`#ops [data-stat="${name}"]`, "data-state");
  /** The panel polls every 2 s. */
  const POLL = { timeout: 6_000, interval: 100 };

  it("console - opened fresh it is live on everything at once, nothing typed", async () => {
    await page.goto(url);
    await expect.poll(() => page.title()).toBe("natsgate console");
    await page.waitForSelector('#status[data-state="live"]');
    expect(await page.textContent("#status")).toBe("Live: >");
    expect(await page.inputValue("#filter")).toBe(">");
    expect(await page.textContent("#whoami")).toBe("anonymous (auth off)");
  });

  it("console - an event shows subject, time, stream/seq, trace id, headers and pretty JSON", async () => {
    expect((await publish("demo.hello", { greeting: "hi" }, { traceparent: TRACEPARENT, "NatsH-Tenant": "acme" })).status).toBe(201);
    const li = item("demo.hello");
    await li.waitFor();
    expect(await li.locator(".subject").textContent()).toBe("demo.hello");
    expect(await li.locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await li.locator(".position").textContent()).toBe("DEMO #1");
    expect(await li.locator(".trace").textContent()).toBe("trace 4bf92f3577b34da6a3ce929d0e0e4736");
    expect(await li.locator(".headers dt").allTextContents()).toEqual(["NatsH-Tenant", "traceparent", "Content-Type"]);
    expect(await li.locator(".headers dd").allTextContents()).toEqual(["acme", TRACEPARENT, "application/json"]);
    expect(await li.locator("pre.data").textContent()).toBe('{\n  "greeting": "hi"\n}');
  });

  it("console - copy as curl gives a command that publishes the event again", async () => {
    await item("demo.hello").locator("button.copy").click();
    await expect.poll(() => item("demo.hello").locator("button.copy").textContent()).toBe("Copied");
    const command = await page.evaluate(() => navigator.clipboard.readText());
    const body = Buffer.from('{"greeting":"hi"}').toString("base64");
    expect(command).toBe(`printf '%s' '${body}' | base64 -d | curl -g -X POST '${url}/v1/publish/demo.hello' -H 'content-type: application/json' -H 'NatsH-Tenant: acme' --data-binary @-`);
    const { stdout } = await promisify(execFile)("sh", ["-c", `${command} --silent --show-error`]);
    expect(JSON.parse(stdout)).toEqual({ subject: "demo.hello", stream: "DEMO", seq: 2, duplicate: false });
    await expect.poll(() => item("demo.hello").count()).toBe(2);
  });

  it("console - the rate chart counts events per second and draws them", async () => {
    await expect.poll(() => page.getAttribute("#rate", "data-total")).toBe("2");
    for (let i = 0; i < 5; i++) await publish(`demo.burst.${i}`, { i });
    await expect.poll(() => page.getAttribute("#rate", "data-total")).toBe("7");
    // Five events within a second or two: the redraw (once a second) shows a bar of at least 3.
    await expect.poll(async () => Number(await page.getAttribute("#rate", "data-peak")), { timeout: 3_000 }).toBeGreaterThanOrEqual(3);
    const painted = await page.evaluate(() => {
      const c = document.getElementById("rate") as HTMLCanvasElement;
      const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(100);
  });

  it("console - pause holds new events back, resume shows them", async () => {
    await page.click("#pause");
    expect(await page.getAttribute("#pause", "aria-pressed")).toBe("true");
    await publish("demo.while-paused", { n: 1 });
    await expect.poll(() => page.textContent("#status")).toBe("Paused · 1 new");
    expect(await item("demo.while-paused").count()).toBe(0);
    expect(await page.getAttribute("#rate", "data-total")).toBe("8");
    await page.click("#pause");
    await item("demo.while-paused").waitFor();
    expect(await page.textContent("#status")).toBe("Live: >");
  });

  it("console - publishing from the page shows the event in the live list", async () => {
    await page.fill("#subject", "demo.form");
    await page.fill("#body", '{"greeting":"hi"}');
    await page.click("#publish");
    await page.waitForSelector('#result[data-ok="true"]');
    expect(await page.textContent("#result strong")).toBe("201 stored");
    await item("demo.form").waitFor();
    await page.screenshot({ path: join(tmpdir(), "natsgate-console.png") });
  });

  it("console - validation errors from the gateway are shown per field", async () => {
    await page.fill("#subject", "transfer.completed");
    await page.fill("#body", '{"transferId":"t-1"}');
    await page.click("#publish");
    await page.waitForSelector('#result[data-ok="false"]');
    expect(await page.textContent("#result strong")).toBe("422 Schema violation");
    expect(await page.locator("#result li").allTextContents()).toContain("/imageId: Invalid input: expected string, received undefined");
  });

  it("console - webhook status lists each webhook with its state", async () => {
    await page.waitForSelector("#webhooks li");
    expect(await page.locator("#webhooks li .id").allTextContents()).toEqual(["billing"]);
    expect(await page.textContent("#webhooks li .state")).toBe("disabled");
    expect(await page.textContent("#webhooks li .where")).toBe("transfer.completed → billing.example (json)");
  });

  it("console - the operations panel shows this replica's numbers: NATS, publishes/s, streams, webhook outcomes, dead letters", async () => {
    sink.script("/refuse", () => ({ status: 400, body: "no" }));
    for (const [id, path] of [["ops-ok", "/ok"], ["ops-refused", "/refuse"]]) {
      const res = await fetch(`${url}/v1/webhooks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id, subjects: ["ops.>"], url: `${sink.url}${path}` }) });
      expect(res.status).toBe(201);
    }
    await expect.poll(() => stat("nats"), POLL).toBe("connected");
    expect(await statState("nats")).toBe("connected");
    await expect.poll(() => stat("streams"), POLL).toBe("1 SSE · 0 WebSocket");
    for (let i = 0; i < 2; i++) expect((await publish(`ops.event.${i}`, { i })).status).toBe(201);
    await sink.waitFor("/ok", 2);
    await sink.waitFor("/refuse", 2);
    // A poll that spans the publishes shows a rate above zero.
    await expect.poll(async () => Number(await stat("rate")), POLL).toBeGreaterThan(0);
    await expect.poll(() => stat("dead-letters"), POLL).toBe("2");
    expect(await statState("dead-letters")).toBe("bad");
    expect(await stat("deliveries")).toBe("2 delivered · 2 failed attempts");
    // The same numbers the gateway exports.
    const stats = await (await fetch(`${url}/v1/stats`)).json();
    expect(stats.publishes.failed).toBe(0);
    await expect.poll(() => stat("publishes"), POLL).toBe(`${stats.publishes.ok} ok · 0 failed`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`natsgate_publishes_total{kind="jetstream",outcome="ok"} ${stats.publishes.ok}`);
    expect(metrics).toContain('natsgate_dead_letters_total 2');
    for (const id of ["ops-ok", "ops-refused"]) expect((await fetch(`${url}/v1/webhooks/${id}`, { method: "DELETE" })).status).toBe(204);
  });

  it("console - the operations panel never shows old numbers as current: an error, a page that is not JSON, no answer", async () => {
    await expect.poll(() => page.getAttribute("#ops", "data-state"), POLL).toBe("ok");
    const answers: [string, (r: import("playwright-core").Route) => Promise<void>][] = [
      ["Operations unavailable (HTTP 500).", (r) => r.fulfill({ status: 500, contentType: "application/problem+json", body: "{}" })],
      ["Operations unavailable (unexpected answer).", (r) => r.fulfill({ status: 200, contentType: "text/html", body: "<html>proxy login</html>" })],
      ["Gateway unreachable.", (r) => r.abort()],
    ];
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    for (const [note, answer] of answers) {
      await page.route("**/v1/stats", answer);
      await expect.poll(() => page.textContent("#ops .note"), POLL).toBe(note);
      expect(await page.getAttribute("#ops", "data-state")).toBe("unavailable");
      expect(await page.locator("#ops [data-stat]").allTextContents()).toEqual(["…", "…", "…", "…", "…", "…"]);
      expect(await statState("nats")).toBeNull();
      await page.unroute("**/v1/stats");
      await expect.poll(() => stat("nats"), POLL).toBe("connected");
    }
    expect(errors).toEqual([]);
  });

  it("console - after a gateway restart the page resumes without losing events published meanwhile", async () => {
    await publish("demo.before", { n: 0 });
    await item("demo.before").waitFor();

    gateway.child.kill("SIGTERM");
    expect((await gateway.exited).code).toBe(0);
    // Published straight to JetStream while no gateway is running.
    const nc = await natsConnect(server.url);
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(`demo.missed.${i}`, JSON.stringify({ i }));
    await nc.close();

    await startGateway();
    // The page retries with backoff up to 15 s (@natsgate/client MAX_RETRY_MS); where the restart
    // falls in that schedule is the suite's load, so the wait spans a whole longest interval and more.
    await item("demo.missed.2").waitFor({ timeout: 35_000 });
    await page.waitForSelector('#status[data-state="live"]');
    const subjects = (await page.locator("#events li .subject").allTextContents()).reverse();
    expect(subjects.slice(-4)).toEqual(["demo.before", "demo.missed.0", "demo.missed.1", "demo.missed.2"]);
  }, 60_000);

  it("console - the operations panel shows a NATS outage while it lasts", async () => {
    await expect.poll(() => stat("nats"), POLL).toBe("connected");
    await server.kill();
    await expect.poll(() => stat("nats"), POLL).toBe("disconnected");
    expect(await statState("nats")).toBe("disconnected");
    await server.restart();
    await expect.poll(() => stat("nats"), { ...POLL, timeout: 15_000 }).toBe("connected (1 reconnects)");
  }, 30_000);
});
