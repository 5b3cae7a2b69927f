/**
 * natsgate's version (user-agent, OpenAPI, spans). A constant rather than a read of
 * package.json so every runtime has it, Workers included (no file system there);
 * test/unit/version.test.ts keeps it equal to package.json's.
 */
export const VERSION = "0.1.0";
