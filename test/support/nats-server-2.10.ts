/**
 * The second nats-server the tests run against: Debian trixie's 2.10, the line
 * users run (bookworm, and so CI's /usr/sbin/nats-server, has 2.9.10). Fetched
 * with apt into a cache folder (`debian-packages.ts`); nothing is installed.
 * `NATS_SERVER_2_10` names another binary instead.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchDebianPackages } from "./debian-packages.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where the unpacked package lives (node_modules, so a fresh clone fetches it once). */
export const NATS_210_DIR = join(ROOT, "node_modules/.cache/natsgate/nats-server-2.10");
/** The binary the 2.10 test leg runs. */
export const NATS_210_BIN = process.env.NATS_SERVER_2_10 ?? join(NATS_210_DIR, "root/usr/sbin/nats-server");

/** The version line of a nats-server binary, e.g. "v2.10.27". */
export function natsServerVersion(bin: string): string {
  return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim().replace(/^nats-server:\s*/, "");
}

/** Makes sure NATS_210_BIN exists and is a 2.10 server; fetches Debian trixie's package when it is missing. */
export function ensureNatsServer210(): string {
  if (!existsSync(NATS_210_BIN)) fetchTrixiePackage();
  const version = natsServerVersion(NATS_210_BIN);
  if (!/^v2\.10\./.test(version)) throw new Error(`${NATS_210_BIN} is ${version}, not 2.10`);
  return version;
}

function fetchTrixiePackage(): void {
  try {
    fetchDebianPackages(NATS_210_DIR, "trixie", ["nats-server"]);
  } catch (err) {
    throw new Error(`${(err as Error).message} (set NATS_SERVER_2_10 to a 2.10 binary instead)`);
  }
}
