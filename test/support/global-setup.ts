/**
 * Once per test run, before any worker starts: unpack the Chromium that
 * @sparticuz/chromium ships, so parallel e2e files never race to extract it.
 */
import { chromiumPath } from "./browser.js";

export default async function setup(): Promise<void> {
  await chromiumPath();
}
