/** natsgate's version, from package.json (used in user-agent and OpenAPI). */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

// From src/ (tsx) package.json is one level up; from dist/src/ (built) two.
const candidates = ["../package.json", "../../package.json"];
const path = candidates.find((p) => existsSync(new URL(p, import.meta.url)))!;
const pkg = createRequire(import.meta.url)(path) as { version: string };

/** The running version. */
export const VERSION: string = pkg.version;
