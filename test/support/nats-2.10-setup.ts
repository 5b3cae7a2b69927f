/** Global setup of the nats-server 2.10 test leg: the binary is there (fetched if need be) before any file starts. */
import { ensureNatsServer210, NATS_210_BIN } from "./nats-server-2.10.js";

export default function setup(): void {
  const version = ensureNatsServer210();
  process.stdout.write(`nats-server ${version} for the 2.10 leg: ${NATS_210_BIN}\n`);
}
