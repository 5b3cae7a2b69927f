/**
 * The client's address, for audit records and per-address rate limits.
 * `X-Forwarded-For` counts only behind proxies the operator said to trust, and
 * only the hops those proxies appended: a client can write anything at the
 * left of the header, so the address is read from the right.
 */
import type { Context } from "hono";

/** The address of the connection's other end, as the runtime knows it (undefined in-process). */
export type PeerAddress = (c: Context) => string | undefined;

/** An IPv4 or IPv6 address as proxies write it (no port, no brackets). */
const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|(?=.{2,45}$)[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$/;

/**
 * The client address behind `trustedHops` proxies: the peer is the nearest
 * proxy, and each trusted proxy appended the address it received from, so the
 * client is `trustedHops` entries left of the peer in `X-Forwarded-For, peer`.
 * A chain shorter than that yields its left-most entry; an entry that is not an
 * address yields the peer.
 */
export function forwardedClient(forwardedFor: string | undefined, peer: string | undefined, trustedHops: number): string | undefined {
  if (trustedHops <= 0 || !forwardedFor) return peer;
  const hops = forwardedFor.split(",").map((h) => h.trim());
  const hop = withoutPort(hops[Math.max(0, hops.length - trustedHops)]!);
  return IP.test(hop) ? hop : peer;
}

/** Some proxies write the client's port too: `1.2.3.4:51234`, `[2001:db8::1]:443`. */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(hop);
  return v4 ? v4[1]! : hop;
}

/** Proxies to trust from `server.trustProxy`: true is the one in front, a number that many. */
export function trustedHops(trustProxy: boolean | number): number {
  return trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
}

/** The client's address (see `forwardedClient`); `peer` is the runtime's view of the connection. */
export function remoteAddress(c: Context, trustProxy: boolean | number, peer: PeerAddress): string | undefined {
  return forwardedClient(c.req.header("x-forwarded-for"), peer(c), trustedHops(trustProxy));
}
