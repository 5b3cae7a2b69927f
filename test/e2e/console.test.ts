import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.js";
import { NatsServer } from "../support/nats-server.js";
import { natsConnect } from "../support/nats.js";
import { freePort, runGateway, type GatewayProcess } from "../support/process.js";


describe("console page (headless Chromium)", () => {
  let server: NatsServer;
  let browser: Browser;
  let page: Page;
  let gateway: GatewayProcess;
  let url: string;
  let env: Record<string, string>;

  async function startGateway(): Promise<void> {
    gateway = runGateway([], env);
    await gateway.waitForLog("natsgate listening");
    await gateway.waitForLog("connected to NATS");
  }

  beforeAll(async () => {
    server = await NatsServer.start();
    const port = await freePort();
    const config = join(mkdtempSync(join(tmpdir(), "natsgate-e2e-")), "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        jetstream: { streams: [{ name: "DEMO", subjects: ["demo.>"] }, { name: "EVENTS", subjects: ["transfer.>"] }] },
        webhooks: { endpoints: [{ id: "billing", subjects: ["transfer.completed"], url: "https://billing.example/hooks", enabled: false }] },
      }),
    );
    env = { PATH: process.env.PATH ?? "", NATS_URL: server.url, PORT: String(port), HOST: "127.0.0.1", NATSGATE_CONFIG: config, LOG_LEVEL: "info" };
    url = `http://127.0.0.1:${port}`;
    await startGateway();
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (gateway && gateway.child.exitCode === null) {
      gateway.child.kill("SIGTERM");
      await gateway.exited;
    }
    await server?.cleanup();
  });

  const eventSubjects = () => page.locator("#events li .subject").allTextContents();

  it("console - publishing from the page shows the event in the live list", async () => {
    await page.goto(url);
    await expect.poll(() => page.title()).toBe("natsgate console");
    await page.fill("#filter", "demo.>");
    await page.click("#connect");
    await page.waitForSelector('#status[data-state="live"]');
    await page.fill("#subject", "demo.hello");
    await page.fill("#body", '{"greeting":"hi"}');
    await page.click("#publish");
    await page.waitForSelector('#result[data-ok="true"]');
    expect(await page.textContent("#result strong")).toBe("201 stored");
    await page.waitForSelector('#events li[data-subject="demo.hello"]');
    expect(await page.textContent('#events li[data-subject="demo.hello"] pre')).toBe('{\n  "greeting": "hi"\n}');
    await page.screenshot({ path: join(tmpdir(), "natsgate-console.png") });
  });

  it("console - validation errors from the gateway are shown with their issues", async () => {
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

  it("console - after a gateway restart the page resumes without losing events published meanwhile", async () => {
    await page.fill("#subject", "demo.before");
    await page.fill("#body", '{"n":0}');
    await page.click("#publish");
    await page.waitForSelector('#events li[data-subject="demo.before"]');

    gateway.child.kill("SIGTERM");
    expect((await gateway.exited).code).toBe(0);
    // Published straight to JetStream while no gateway is running.
    const nc = await natsConnect(server.url);
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(`demo.missed.${i}`, JSON.stringify({ i }));
    await nc.close();

    await startGateway();
    await page.waitForSelector('#events li[data-subject="demo.missed.2"]', { timeout: 15_000 });
    await page.waitForSelector('#status[data-state="live"]');
    const subjects = (await eventSubjects()).reverse();
    expect(subjects).toEqual(["demo.hello", "demo.before", "demo.missed.0", "demo.missed.1", "demo.missed.2"]);
  }, 30_000);
});
