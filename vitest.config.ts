import { configDefaults, defineConfig } from "vitest/config";
import { NATS_210_BIN } from "./test/support/nats-server-2.10.js";

// Each integration file starts its own nats-server; forks keep them apart.
const shared = { pool: "forks", testTimeout: 30_000, hookTimeout: 30_000 } as const;

export default defineConfig({
  test: {
    projects: [
      {
        // Everything, against the nats-server on this machine (Debian bookworm's is 2.9.10).
        test: {
          ...shared,
          name: "nats-server",
          include: ["test/**/*.test.ts"],
          // The fault suite runs on its own: npm run test:faults (vitest.faults.config.ts).
          exclude: [...configDefaults.exclude, "test/faults/**", "test/cluster/**"],
          globalSetup: ["test/support/global-setup.ts"],
        },
      },
      {
        // The integration and cluster suites again on 2.10, the line users run: its paths
        // (one consumer with several filter_subjects) are not the 2.9 fallbacks.
        test: {
          ...shared,
          name: "nats-server-2.10",
          include: ["test/integration/**/*.test.ts"],
          // Not about the server version: the image install and the wrangler run stay on one leg.
          exclude: [...configDefaults.exclude, "test/integration/production-image.test.ts", "test/integration/worker.test.ts"],
          env: { NATS_SERVER_BIN: NATS_210_BIN },
          globalSetup: ["test/support/nats-2.10-setup.ts"],
        },
      },
      // Three nats-servers and up to three gateways per file, whose failover times are measured:
      // one file at a time, after everything else (a later group), once per server version.
      {
        test: { ...shared, name: "cluster", include: ["test/cluster/**/*.test.ts"], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        test: {
          ...shared,
          name: "cluster-2.10",
          include: ["test/cluster/**/*.test.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          env: { NATS_SERVER_BIN: NATS_210_BIN },
          globalSetup: ["test/support/nats-2.10-setup.ts"],
        },
      },
    ],
  },
});
