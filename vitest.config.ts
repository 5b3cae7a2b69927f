import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The fault suite runs on its own: npm run test:faults (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, "test/faults/**"],
    globalSetup: ["test/support/global-setup.ts"],
    // Each integration file starts its own nats-server; forks keep them apart.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
