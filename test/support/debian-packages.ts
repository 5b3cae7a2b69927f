/**
 * Debian packages fetched with apt into a folder of their own and unpacked
 * with `dpkg -x`: nothing is installed, and the machine's apt setup is neither
 * read nor changed. The tests' second nats-server and the benchmarks' wrk come
 * this way, so a fresh clone needs nothing beyond Node and Debian's nats-server.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Downloads `packages` from Debian `suite` (e.g. "trixie") and unpacks each
 * into `dir`/root; throws with apt's own message when that fails.
 */
export function fetchDebianPackages(dir: string, suite: string, packages: string[]): string {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ["lists/partial", "cache/archives/partial", "root"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "sources.list"), `deb http://deb.debian.org/debian ${suite} main\n`);
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
    execFileSync("apt-get", [...apt, "download", ...packages], { cwd: dir, stdio: "pipe" });
    for (const name of packages) {
      const deb = readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
      if (!deb) throw new Error(`apt-get download left no ${name} package`);
      execFileSync("dpkg", ["-x", join(dir, deb), join(dir, "root")], { stdio: "pipe" });
    }
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
    throw new Error(`could not fetch ${packages.join(", ")} from Debian ${suite} with apt-get: ${detail}`);
  }
  return join(dir, "root");
}
