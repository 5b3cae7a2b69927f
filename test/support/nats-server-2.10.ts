/**
 * The second nats-server the tests run against: Debian trixie's 2.10, the line
 * users run (bookworm, and so CI's /usr/sbin/nats-server, has 2.9.10). Fetched
 * with apt into a cache folder and unpacked with dpkg -x; nothing is installed.
 * `NATS_SERVER_2_10` names another binary instead.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
  const dir = NATS_210_DIR;
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ["lists/partial", "cache/archives/partial", "root"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "sources.list"), "deb http://deb.debian.org/debian trixie main\n");
  // A source list and state of its own: the machine's apt setup is neither read nor changed.
  const apt = [
    "-q",
    "-o", `Dir::Etc::sourcelist=${join(dir, "sources.list")}`,
    "-o", "Dir::Etc::sourceparts=-",
    "-o", `Dir::State::Lists=${join(dir, "lists")}`,
    "-o", `Dir::Cache=${join(dir, "cache")}`,
    "-o", "Debug::NoLocking=1",
    "-o", "APT::Sandbox::User=root",
  ];
  try {
    execFileSync("apt-get", [...apt, "update"], { stdio: "pipe" });
    execFileSync("apt-get", [...apt, "download", "nats-server"], { cwd: dir, stdio: "pipe" });
    const deb = readdirSync(dir).find((f) => /^nats-server_.*\.deb$/.test(f));
    if (!deb) throw new Error("apt-get download left no nats-server package");
    execFileSync("dpkg", ["-x", join(dir, deb), join(dir, "root")], { stdio: "pipe" });
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err);
    throw new Error(`could not fetch nats-server 2.10 from Debian trixie with apt-get (set NATS_SERVER_2_10 to a 2.10 binary instead): ${detail}`);
  }
}
