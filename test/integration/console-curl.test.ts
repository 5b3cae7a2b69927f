/**
 * The console's "Copy as curl" command, run by a real shell and curl against a
 * recording server: event content is attacker-controlled (anyone allowed to
 * publish), so the command must send exactly that content and nothing else.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain browser module, no types
import { curlFor } from "../../public/events.js";

interface Seen {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

describe("console - copy as curl is safe to paste", () => {
  let server: Server;
  let origin: string;
  const seen: Seen[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        seen.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function run(env: Record<string, unknown>): Promise<Seen> {
    seen.length = 0;
    await promisify(execFile)("sh", ["-c", `${curlFor(env, origin)} --silent --show-error`]);
    expect(seen).toHaveLength(1);
    return seen[0]!;
  }

  it("the caller's credentials come from the shell's environment: a bearer token, or a user and password (-u)", async () => {
    const env = { subject: "a.b", data: { n: 1 } };
    const withEnv = { ...process.env, NATSGATE_TOKEN: "tok-123", NATSGATE_USER: "jürgen", NATSGATE_PASSWORD: "pä ss:w'rd $(id)" };
    const send = async (kind: unknown) => {
      seen.length = 0;
      await promisify(execFile)("sh", ["-c", `${curlFor(env, origin, kind)} --silent --show-error`], { env: withEnv });
      return seen[0]!.headers.authorization;
    };
    expect(await send("bearer")).toBe("Bearer tok-123");
    expect(await send(true)).toBe("Bearer tok-123");
    expect(await send("basic")).toBe(`Basic ${Buffer.from("jürgen:pä ss:w'rd $(id)", "utf8").toString("base64")}`);
    expect(curlFor(env, origin, "basic")).not.toContain("jürgen");
  });

  it("a body starting with @ is sent as text, not a local file", async () => {
    const got = await run({ subject: "exfil.x", data: "@/etc/hostname" });
    expect(got.body.toString()).toBe("@/etc/hostname");
    expect(got.headers["content-type"]).toBe("text/plain");
  });

  it("URL globbing characters and # in a subject reach the gateway as one percent-encoded subject", async () => {
    const got = await run({ subject: "glob.[1-4].{a,b}#x", data: { n: 1 } });
    expect(got.url).toBe("/v1/publish/glob.%5B1-4%5D.%7Ba%2Cb%7D%23x");
    expect((await run({ subject: "q.it's(x)!*", data: 1 })).url).toBe("/v1/publish/q.it%27s%28x%29%21%2A");
    expect(JSON.parse(got.body.toString())).toEqual({ n: 1 });
  });

  it("control characters (a bracketed-paste escape) travel base64-encoded and arrive intact", async () => {
    const data = "a\u001b[201~\u0003\nid\n'; touch /tmp/pwned-natsgate; '";
    const command = curlFor({ subject: "a.b", data }, origin);
    expect(command).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const got = await run({ subject: "a.b", data });
    expect(got.body.toString()).toBe(data);
  });

  it("quotes, $() and backticks are inert; headers that are not plain text, JetStream and trace headers are left out", async () => {
    const data = { q: "it's $(id) `id` \"x\" \\' fish" };
    const command = curlFor({ subject: "a.b", data, headers: { "NatsH-Evil": "\\';touch /tmp/x;#" } }, origin);
    // Nothing of the event is quoted into the command as it is, so no shell's quoting rules matter.
    expect(command).not.toContain("touch");
    expect(command).not.toContain("fish");
    const got = await run({
      subject: "a.b",
      data,
      headers: {
        "NatsH-Tenant": "acme (eu-1)",
        "NatsH-Evil": "a'b $(id)",
        "NatsH-Nats-Expected-Stream": "S",
        "Idempotency-Key": "k",
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      },
    });
    expect(JSON.parse(got.body.toString())).toEqual(data);
    expect(got.headers["natsh-tenant"]).toBe("acme (eu-1)");
    expect(got.headers["natsh-evil"]).toBeUndefined();
    expect(got.headers["natsh-nats-expected-stream"]).toBeUndefined();
    expect(got.headers["idempotency-key"]).toBeUndefined();
    expect(got.headers.traceparent).toBeUndefined();
  });
});
