/** natsgate's version, from package.json (used in user-agent and OpenAPI). */
import { createRequire } from "node:module";

const pkg = createRequire(import.meta.url)("../package.json") as { version: string };

/** The running version. */
export const VERSION: string = pkg.version;
