import { describe, expect, it } from "vitest";
import { forwardedClient, trustedHops } from "../../src/http/remote.js";

describe("the client address behind trusted proxies is read from the right of X-Forwarded-For", () => {
  it.each([
    // [X-Forwarded-For, trusted hops, client]
    ["203.0.113.9", 0, "127.0.0.1"],
    ["203.0.113.9", 1, "203.0.113.9"],
    // A client that forges the left end gains nothing behind one proxy.
    ["1.1.1.1, 203.0.113.9", 1, "203.0.113.9"],
    ["1.1.1.1, 203.0.113.9, 10.0.0.2", 2, "203.0.113.9"],
    ["203.0.113.9, 10.0.0.2", 5, "203.0.113.9"],
    ["2001:db8::1", 1, "2001:db8::1"],
    [" 198.51.100.7 ,10.0.0.2", 2, "198.51.100.7"],
    // Garbage where an address should be: the peer, not the text.
    ["1.1.1.1, evil\\u0000", 1, "127.0.0.1"],
    ["1.1.1.1,", 1, "127.0.0.1"],
    ["1.1.1.1, cafe", 1, "127.0.0.1"],
    // Ports, as Azure Application Gateway and IIS/ARR write them (review).
    ["1.2.3.4:51234", 1, "1.2.3.4"],
    ["[2001:db8::1]:443", 1, "2001:db8::1"],
    ["[2001:db8::2]", 1, "2001:db8::2"],
    ["1.2.3.4:99999999", 1, "127.0.0.1"],
  ] as const)("X-Forwarded-For %j with %i trusted hop(s) -> %s", (xff, hops, client) => {
    expect(forwardedClient(xff, "127.0.0.1", hops)).toBe(client);
  });

  it("no header: the peer", () => {
    expect(forwardedClient(undefined, "127.0.0.1", 1)).toBe("127.0.0.1");
  });

  it("trustProxy true is one hop, false none", () => {
    expect([trustedHops(true), trustedHops(false), trustedHops(3)]).toEqual([1, 0, 3]);
  });
});
