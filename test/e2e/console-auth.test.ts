import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.js";
import { startGateway, type TestGateway } from "../support/gateway.js";
import { signToken } from "../support/jwt.js";
import { NatsServer } from "../support/nats-server.js";
import { hashPassword } from "../../src/security/passwords.js";

const VIEWER = "viewer-token-0123456789abcdef";
const OPERATOR = "operator-token-0123456789abcdef";
const SECRET = "console-auth-hmac-secret-0123456789";
const PASSWORD = "pässwörd ✓ with: colon";

describe("console page (headless Chromium), auth required", () => {
  let server: NatsServer;
  let gw: TestGateway;
  let browser: Browser;
  const pages: Page[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    gw = await startGateway(server.url, {
      jetstream: { streams: [{ name: "DEPLOY", subjects: ["deploy.>"] }] },
      auth: {
        mode: "required",
        clients: [
          { name: "viewer", token: VIEWER, subscribe: { allow: ["deploy.request", "cluster.*.nodeAdded"] } },
          { name: "operator", token: OPERATOR, subscribe: { allow: ["deploy.>"] }, admin: true },
          { name: "jürgen", user: "jürgen", password: await hashPassword(PASSWORD, { cost: 1024 }), subscribe: { allow: ["deploy.request"] } },
        ],
        jwt: { secret: SECRET },
      },
      metrics: { token: "metrics-token-0123456789abcdef" },
    });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) await p.context().close();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await server?.cleanup();
  });

  /** A fresh browser profile (no stored token) on the console. */
  async function freshPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    pages.push(page);
    await page.goto(gw.url);
    return page;
  }

  async function enterToken(page: Page, token: string): Promise<void> {
    await page.fill("#token", token);
    await page.dispatchEvent("#token", "change");
  }

  it("console - without a token it says a token is required instead of retrying silently", async () => {
    const page = await freshPage();
    await page.waitForSelector('#status[data-state="unauthorized"]');
    expect(await page.textContent("#status")).toBe("401 Unauthorized: credentials are required (a bearer token, or a user and password). Enter a token above.");
  });

  it("console - with a token it goes live on exactly the client's subjects, nothing typed", async () => {
    const page = await freshPage();
    await enterToken(page, VIEWER);
    await page.waitForSelector('#status[data-state="live"]');
    expect(await page.inputValue("#filter")).toBe("deploy.request cluster.*.nodeAdded");
    expect(await page.textContent("#whoami")).toBe("viewer (token)");
    const request = { deploymentId: "d-1", cluster: "dev", manifest: "app@1", requestedBy: "portal", requestedAt: "2026-11-24T20:00:00Z" };
    const nc = gw.nats.connection();
    nc.publish("deploy.request", JSON.stringify(request));
    await page.waitForSelector('#events li[data-subject="deploy.request"]');
    expect(await page.textContent('#events li[data-subject="deploy.request"] .position')).toBe("DEPLOY #1");
  });

  it("console - user:password in the token field signs in with HTTP Basic, and is not remembered by the browser; no browser login prompt is offered", async () => {
    const page = await freshPage();
    await enterToken(page, `jürgen:${PASSWORD}`);
    await page.waitForSelector('#status[data-state="live"]');
    expect(await page.textContent("#whoami")).toBe("jürgen (password)");
    expect(await page.inputValue("#filter")).toBe("deploy.request");
    expect(await page.evaluate(() => localStorage.getItem("natsgate.token"))).toBeNull();
    const request = { deploymentId: "d-2", cluster: "dev", manifest: "app@2", requestedBy: "portal", requestedAt: "2026-11-24T20:00:00Z" };
    gw.nats.connection().publish("deploy.request", JSON.stringify(request));
    await page.waitForSelector('#events li[data-subject="deploy.request"]');
    // The page's own requests are never offered a Basic challenge (the browser would prompt).
    const challenge = await page.evaluate(async () => (await fetch("/v1/me")).headers.get("www-authenticate"));
    expect(challenge).toBe('Bearer realm="natsgate"');
    await enterToken(page, "jürgen:wrong");
    await expect.poll(() => page.textContent("#status")).toBe("401 Unauthorized: unknown user or wrong password. Enter a valid user:password or token above.");
  });

  it("console - a refused subscription shows the status and the gateway's detail", async () => {
    const page = await freshPage();
    await enterToken(page, VIEWER);
    await page.waitForSelector('#status[data-state="live"]');
    await page.fill("#filter", ">");
    await page.click("#connect");
    await page.waitForSelector('#status[data-state="refused"]');
    expect(await page.textContent("#status")).toBe("403 Forbidden: client viewer may not subscribe to >");
  });

  it("console - a wrong token and an expired token each say so", async () => {
    const page = await freshPage();
    // The page starts tokenless ("a bearer token is required"): wait for the answer to this token.
    await enterToken(page, "not-a-known-token-000000");
    await expect.poll(() => page.textContent("#status")).toBe("401 Unauthorized: unknown token. Enter a valid token above.");
    expect(await page.getAttribute("#status", "data-state")).toBe("unauthorized");

    const soon = await signToken(new TextEncoder().encode(SECRET), { subject: "dash", expiresIn: 2, claims: { natsgate: { subscribe: { allow: ["deploy.>"] } } } });
    await enterToken(page, soon);
    await page.waitForSelector('#status[data-state="live"]');
    expect(await page.textContent("#whoami")).toBe("dash (jwt)");
    await page.waitForSelector('#status[data-state="expired"]', { timeout: 5_000 });
    expect(await page.textContent("#status")).toBe("Token expired: enter a new token above to continue.");
  });

  it("console - with metrics.token set the operations panel asks for an admin token, and shows the numbers with one", async () => {
    const page = await freshPage();
    await enterToken(page, VIEWER);
    await page.waitForSelector('#status[data-state="live"]');
    await page.waitForSelector('#ops[data-state="unavailable"]');
    expect(await page.textContent("#ops .note")).toBe("Operations need an admin token or the metrics token.");
    expect(await page.textContent('#ops [data-stat="nats"]')).toBe("…");
    // Refused once, it stops asking until the token changes.
    const asked: string[] = [];
    page.on("request", (r) => r.url().endsWith("/v1/stats") && asked.push(r.url()));
    await page.waitForTimeout(4_500);
    expect(asked).toEqual([]);
    await enterToken(page, OPERATOR);
    await page.waitForSelector('#ops[data-state="ok"]');
    expect(await page.textContent("#ops .note")).toBe("");
    expect(await page.textContent('#ops [data-stat="nats"]')).toBe("connected");
    expect(await page.textContent('#ops [data-stat="dead-letters"]')).toBe("0");
  });
});
