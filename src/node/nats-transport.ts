/** NATS over TCP (with TLS from files) for the Node runtime: nats.js's Node transport. */
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import type { NatsTransport } from "../nats/connection-options.js";

/** The transport `npm start`, the Docker image and the tests use. */
export const nodeTransport: NatsTransport = {
  connect,
  readFile: (path) => readFileSync(path),
};
