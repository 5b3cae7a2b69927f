/** Files shipped beside the code (package.json, public/), found from src/ (tsx) and dist/src/ (built) alike. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("natsgate: package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** natsgate's package root. */
export const PACKAGE_ROOT = findRoot();

/** Reads a file relative to the package root. */
export function readPackageFile(path: string): string {
  return readFileSync(join(PACKAGE_ROOT, path), "utf8");
}
