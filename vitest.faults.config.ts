import { defineConfig } from "vitest/config";

/**
 * The fault suite (`npm run test:faults`): real nats-server and gateway processes
 * killed, frozen and fuzzed. Files run one at a time, since several of them measure
 * latency and memory, which a neighbouring file would disturb.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
