/** natsgate's version, from package.json (used in user-agent and OpenAPI). */
import { readPackageFile } from "./node/package-root.js";

/** The running version. */
export const VERSION: string = (JSON.parse(readPackageFile("package.json")) as { version: string }).version;
