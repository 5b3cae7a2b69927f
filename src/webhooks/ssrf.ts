/**
 * SSRF guard for outbound webhooks. A destination is refused when the address
 * the socket will actually connect to is loopback, private, link-local,
 * unique-local, CGNAT, multicast, reserved or a cloud metadata address. The
 * check runs in the connection's DNS lookup, so a hostname that resolves (or is
 * re-pointed) to an internal address is caught, not only a literal in the URL.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { BlockList, isIP } from "node:net";

/** Ranges no webhook may reach unless allowed (RFC 6890 special-purpose and friends). */
const BLOCKED_V4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT; also Alibaba's metadata 100.100.100.200
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local; AWS/GCP/Azure metadata 169.254.169.254
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];
const BLOCKED_V6: [string, number][] = [
  // Unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d (`[::127.0.0.1]` is `[::7f00:1]`).
  ["::", 96],
  ["::ffff:0:0:0", 96], // IPv4-translated (RFC 2765)
  ["64:ff9b:1::", 48],
  ["2001::", 32], // Teredo: tunnels to an IPv4 address the relay picks
  ["2002::", 16], // 6to4: embeds an IPv4 address, internal ones included
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7], // unique-local, incl. AWS's fd00:ec2::254
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
];

const blocked = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of BLOCKED_V6) blocked.addSubnet(net, prefix, "ipv6");

/** The IPv4 address embedded in an IPv4-mapped or NAT64 IPv6 address (the ranges that are blocked whole are checked first). */
function embeddedV4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True when `address` (an IP literal) is in a range webhooks may not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  if (blocked.check(address, "ipv6")) return true;
  const v4 = embeddedV4(address.toLowerCase());
  return v4 !== undefined && blocked.check(v4, "ipv4");
}

/** Options for `SsrfGuard`. */
export interface SsrfOptions {
  /** Allow every destination (development, or sinks on a private network). */
  allowPrivateNetworks: boolean;
  /** Hostnames, IPs and CIDR ranges allowed even though they are internal. */
  allowlist: string[];
}

/** Raised (as the socket's error) when a destination is refused. */
export class DestinationRefusedError extends Error {
  readonly code = "ERR_DESTINATION_REFUSED";
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      address === host
        ? `destination ${host} is an internal address; set webhooks.allowPrivateNetworks or add it to webhooks.allowlist`
        : `destination ${host} resolves to internal address ${address}; set webhooks.allowPrivateNetworks or add it to webhooks.allowlist`,
    );
    this.name = "DestinationRefusedError";
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Decides which destinations are allowed, and supplies the guarded DNS lookup. */
export class SsrfGuard {
  readonly #allowAll: boolean;
  readonly #hosts = new Set<string>();
  readonly #ranges = new BlockList();

  constructor(opts: SsrfOptions) {
    this.#allowAll = opts.allowPrivateNetworks;
    for (const entry of opts.allowlist) {
      const [net, prefix] = entry.split("/");
      const family = isIP(net!);
      if (family === 0) this.#hosts.add(entry.toLowerCase());
      else if (prefix === undefined) this.#ranges.addAddress(net!, family === 4 ? "ipv4" : "ipv6");
      else this.#ranges.addSubnet(net!, Number(prefix), family === 4 ? "ipv4" : "ipv6");
    }
  }

  /** The reason `address` (reached for `host`) is refused, or undefined when allowed. */
  refusal(host: string, address: string): DestinationRefusedError | undefined {
    if (this.#allowAll || this.#hosts.has(host.toLowerCase())) return undefined;
    if (!isBlockedAddress(address)) return undefined;
    const family = isIP(address);
    if (family !== 0 && this.#ranges.check(address, family === 4 ? "ipv4" : "ipv6")) return undefined;
    return new DestinationRefusedError(host, address);
  }

  /** Checks a URL's literal host (IP or `localhost`) before anything is stored; DNS names are checked at connect time. */
  checkUrl(url: string | URL): DestinationRefusedError | undefined {
    const host = (typeof url === "string" ? new URL(url) : url).hostname.replace(/^\[|\]$/g, "");
    if (isIP(host)) return this.refusal(host, host);
    if (host === "localhost" || host.endsWith(".localhost")) return this.refusal(host, "127.0.0.1");
    return undefined;
  }

  /** A `lookup` for `http.request`: resolves, then refuses if any address is internal. */
  readonly lookup = (hostname: string, options: LookupAllOptions | number | object, callback: LookupCallback): void => {
    const all = typeof options === "object" && (options as LookupAllOptions).all === true;
    dnsLookup(hostname, { all: true, family: typeof options === "object" ? (options as { family?: number }).family ?? 0 : 0 }, (err, addresses) => {
      if (err) return callback(err, "");
      // Any internal answer refuses the host: an attacker controls which of several records is used.
      for (const a of addresses) {
        const refused = this.refusal(hostname, a.address);
        if (refused) return callback(refused as unknown as NodeJS.ErrnoException, "");
      }
      if (all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
