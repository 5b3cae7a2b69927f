import { describe, expect, it } from "vitest";
import { retryAfterMs, SseParser } from "../../client/src/index.js";

describe("client - SSE framing and Retry-After", () => {
  it("events split anywhere, across CRLF too, come out whole; comments, retry and id lines are read", () => {
    const stream = "retry: 2000\r\n: heartbeat\r\n\r\nid: S:1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: overflow\ndata: {\"reason\":\"overflow\"}\n\ndata: no id\r\r\n";
    for (let cut = 0; cut <= stream.length; cut++) {
      const p = new SseParser();
      const events = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut))];
      expect([cut, events]).toEqual([
        cut,
        [
          { event: "message", data: '{"a":\n1}', id: "S:1" },
          { event: "overflow", data: '{"reason":"overflow"}', id: undefined },
          { event: "message", data: "no id", id: undefined },
        ],
      ]);
      expect(p.retry).toBe(2000);
    }
  });

  it.each([
    ["3", 3000],
    [" 0 ", 0],
    ["", undefined],
    ["soon", undefined],
    ["Thu, 01 Jan 1970 00:00:05 GMT", 5000],
  ])("Retry-After %j is %j ms", (header, ms) => {
    expect(retryAfterMs(header, 0)).toBe(ms);
  });
});
