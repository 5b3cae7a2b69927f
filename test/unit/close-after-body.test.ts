/** closeAfterBody: cleanup after a response's body ends, fails or is abandoned (Workers' per-request NATS connection). */
import { describe, expect, it } from "vitest";
import { closeAfterBody } from "../../src/http/close-after-body.js";

const chunks = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });

describe("closeAfterBody", () => {
  it("a response without a body closes at once and is returned as it is", () => {
    let closed = 0;
    const res = new Response(null, { status: 204, headers: { "x-a": "1" } });
    expect(closeAfterBody(res, () => closed++)).toBe(res);
    expect(closed).toBe(1);
  });

  it("a body read to the end arrives whole, with status and headers, then closes once", async () => {
    let closed = 0;
    const res = closeAfterBody(new Response(chunks("a", "b", "c"), { status: 201, headers: { "content-type": "text/plain" } }), () => closed++);
    expect([res.status, res.headers.get("content-type")]).toEqual([201, "text/plain"]);
    expect(closed).toBe(0);
    expect(await res.text()).toBe("abc");
    expect(closed).toBe(1);
  });

  it("a client that goes away (the body cancelled) closes, and the source stream is cancelled too", async () => {
    let closed = 0;
    let sourceCancelled: unknown;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new TextEncoder().encode(": heartbeat\n\n")),
      cancel: (reason) => void (sourceCancelled = reason),
    });
    const reader = closeAfterBody(new Response(endless), () => closed++).body!.getReader();
    await reader.read();
    expect(closed).toBe(0);
    await reader.cancel("client gone");
    expect(closed).toBe(1);
    expect(sourceCancelled).toBe("client gone");
  });

  it("a body that fails closes and passes the error on", async () => {
    let closed = 0;
    const failing = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error("upstream broke")) });
    await expect(closeAfterBody(new Response(failing), () => closed++).text()).rejects.toThrow("upstream broke");
    expect(closed).toBe(1);
  });
});
