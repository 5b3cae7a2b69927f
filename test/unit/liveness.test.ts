import { describe, expect, it } from "vitest";
import { Liveness } from "../../src/nats/liveness.js";
import { createLogger } from "../../src/logger.js";

/** A Liveness on a hand-driven clock, with pings answered only when the test says so. */
function setup() {
  let now = 0;
  let bytes = 0;
  const pongs: (() => void)[] = [];
  const lines: string[] = [];
  const liveness = new Liveness({
    ping: () => new Promise<void>((resolve) => pongs.push(resolve)),
    stallTimeoutMs: 2_000,
    received: () => bytes,
    now: () => now,
    logger: createLogger("info", (line) => lines.push(JSON.parse(line).msg)),
  });
  const advance = (ms: number, received = 0) => {
    now += ms;
    bytes += received;
    liveness.tick();
  };
  return { liveness, advance, pongs, lines };
}

describe("liveness: a server is stalled when a ping goes unanswered and nothing else arrives", () => {
  it("an unanswered ping with a silent connection marks it stalled after the timeout, once; the pong clears it", async () => {
    const { liveness, advance, pongs, lines } = setup();
    advance(0); // sends the ping
    for (let i = 0; i < 4; i++) advance(500);
    expect(liveness.stalled).toBe(false);
    advance(500);
    expect(liveness.stalled).toBe(true);
    advance(500);
    expect(lines).toEqual(["NATS stopped answering; refusing publishes until it does"]);
    pongs[0]!();
    await Promise.resolve();
    expect(liveness.stalled).toBe(false);
    expect(lines.at(-1)).toBe("NATS answering again");
  });

  it("a late pong while messages keep arriving is a busy gateway, not a stalled server", () => {
    const { liveness, advance } = setup();
    advance(0);
    for (let i = 0; i < 40; i++) advance(500, 4_096);
    expect(liveness.stalled).toBe(false);
    // The flow stops: now the silence counts.
    for (let i = 0; i < 5; i++) advance(500);
    expect(liveness.stalled).toBe(true);
  });
});
