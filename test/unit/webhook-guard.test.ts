import { describe, expect, it } from "vitest";
import { isBlockedAddress, SsrfGuard } from "../../src/webhooks/ssrf.js";
import { renderText, slackMessage } from "../../src/webhooks/template.js";

describe("SSRF address ranges", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fd00:ec2::254",
    "fc00::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::10.0.0.1",
    // IPv4-compatible (deprecated): `http://[::127.0.0.1]/` reaches the guard as ::7f00:1.
    "::127.0.0.1",
    "::7f00:1",
    "::a9fe:a9fe",
    "::8.8.8.8",
    // IPv4-translated, 6to4 (2002:7f00:1:: is 127.0.0.1) and Teredo.
    "::ffff:0:7f00:1",
    "::ffff:0:127.0.0.1",
    "2002:7f00:1::1",
    "2002:a00:1::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "not-an-ip",
  ])("%s is blocked", (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is allowed", (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });

  it("URL literals are checked as the URL parser normalises them", () => {
    const guard = new SsrfGuard({ allowPrivateNetworks: false, allowlist: [] });
    for (const url of ["http://[::127.0.0.1]/", "http://[::ffff:127.0.0.1]/", "http://[2002:7f00:1::1]/", "http://[2001::1]/", "http://[::ffff:0:7f00:1]/", "http://[0:0:0:0:0:0:7f00:1]/"]) {
      expect([url, guard.checkUrl(url)?.name]).toEqual([url, "DestinationRefusedError"]);
    }
    expect(guard.checkUrl("http://[2606:4700::1111]/")).toBeUndefined();
  });

  it("the allowlist admits named hosts, addresses and ranges; allowPrivateNetworks admits everything", () => {
    const guard = new SsrfGuard({ allowPrivateNetworks: false, allowlist: ["hooks.internal", "10.1.0.0/16", "192.168.5.5"] });
    expect(guard.refusal("hooks.internal", "10.9.9.9")).toBeUndefined();
    expect(guard.refusal("a.example", "10.1.2.3")).toBeUndefined();
    expect(guard.refusal("a.example", "192.168.5.5")).toBeUndefined();
    expect(guard.refusal("a.example", "10.2.0.1")?.message).toBe(
      "destination a.example resolves to internal address 10.2.0.1; set webhooks.allowPrivateNetworks or add it to webhooks.allowlist",
    );
    expect(guard.checkUrl("http://[fe80::1]:8080/x")?.message).toBe(
      "destination fe80::1 is an internal address; set webhooks.allowPrivateNetworks or add it to webhooks.allowlist",
    );
    expect(guard.checkUrl("https://hooks.example.com/x")).toBeUndefined();
    expect(new SsrfGuard({ allowPrivateNetworks: true, allowlist: [] }).checkUrl("http://127.0.0.1/")).toBeUndefined();
  });

  it("the connect-time lookup refuses a name that resolves to loopback", async () => {
    const guard = new SsrfGuard({ allowPrivateNetworks: false, allowlist: [] });
    const err = await new Promise<unknown>((resolve) => guard.lookup("localhost", { all: true }, (e) => resolve(e)));
    expect(err).toMatchObject({ name: "DestinationRefusedError", code: "ERR_DESTINATION_REFUSED" });
  });
});

describe("Slack templates", () => {
  const env = { subject: "transfer.completed", data: { image: "a<b>&c", size: 3, tags: ["x"], nested: { ok: true } }, time: "t" };
  it.each([
    ["{{data.image}}", "a&lt;b&gt;&amp;c"],
    ["{{ data.size }} bytes", "3 bytes"],
    ["{{data.tags}}", '["x"]'],
    ["{{data.nested.ok}}", "true"],
    ["{{data.missing}}|{{data.image.length}}", "|"],
    ["{{data.toString}}{{__proto__}}", ""],
    ["<!channel> {{subject}}", "<!channel> transfer.completed"],
    ["{{data['image']}} {{ }} {{data.size*2}}", "{{data['image']}} {{ }} {{data.size*2}}"],
  ])("%s -> %s", (template, out) => {
    expect(renderText(template, env)).toBe(out);
  });

  it("without a template the text names the subject and shows the data", () => {
    expect(slackMessage(undefined, { subject: "a.b", data: { n: 1 } })).toEqual({ text: '*a.b*: {"n":1}' });
  });
});
