/** The socket's remote address on Node (@hono/node-server), for audit records and per-address limits. */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { PeerAddress } from "../http/remote.js";

/** The TCP peer of the request; undefined for in-process requests (`app.request`), which have no socket. */
export const nodePeerAddress: PeerAddress = (c) => {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
};
