/**
 * A headless Chromium for end-to-end tests, with nothing installed by hand:
 * `CHROMIUM_PATH` when set, else the build `@sparticuz/chromium` ships inside its
 * npm package (unpacked once per run by `test/support/global-setup.ts`).
 */
import chromium from "@sparticuz/chromium";
import { chromium as playwright, type Browser } from "playwright-core";

/** Flags that keep Chromium off this machine's closed network and out of the sandbox root refuses. */
const QUIET_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"];
/**
 * From @sparticuz/chromium's serverless defaults: `--single-process` makes closing one
 * page end the browser, and `--disable-web-security` would hide CORS and same-origin
 * behaviour the console depends on.
 */
const DROPPED_FLAGS = new Set(["--single-process", "--disable-web-security", "--allow-running-insecure-content"]);

/** The Chromium binary tests launch; unpacks the npm-shipped build when `CHROMIUM_PATH` is unset. */
export async function chromiumPath(): Promise<string> {
  return process.env.CHROMIUM_PATH || (await chromium.executablePath());
}

/** Launches headless Chromium; a browser that cannot start fails the test with the reason. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = await chromiumPath();
  const packaged = !process.env.CHROMIUM_PATH;
  const args = packaged ? [...chromium.args.filter((a) => !DROPPED_FLAGS.has(a)), ...QUIET_FLAGS] : ["--headless", ...QUIET_FLAGS];
  try {
    return await playwright.launch({ executablePath, args, headless: true });
  } catch (err) {
    throw new Error(`cannot start Chromium at ${executablePath} (${packaged ? "from @sparticuz/chromium" : "CHROMIUM_PATH"}): ${(err as Error).message}`, { cause: err });
  }
}
