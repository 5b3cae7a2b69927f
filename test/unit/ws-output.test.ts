import { describe, expect, it } from "vitest";
import { msgFrame, msgFrameBytes, TurnCork } from "../../src/subscribe/ws-output.js";
import type { Frame } from "../../src/subscribe/feed.js";

const frame = (env: string, cursor?: string) => ({ env, cursor }) as unknown as Frame;

describe("ws output", () => {
  it("msg frame - the envelope with op and sid in front and the cursor at the end", () => {
    expect(msgFrame("a\"b", frame('{"subject":"x.y","data":1}', "EV:3"))).toBe('{"op":"msg","sid":"a\\"b","subject":"x.y","data":1,"cursor":"EV:3"}');
    expect(msgFrame("s", frame('{"subject":"x"}'))).toBe('{"op":"msg","sid":"s","subject":"x"}');
  });

  it("msg frame bytes - one encoding per frame and sid, UTF-8, a new one when either changes", () => {
    const f = frame('{"data":"héllo ✓"}');
    const a = msgFrameBytes("s", f);
    expect(msgFrameBytes("s", f)).toBe(a);
    expect(a.toString("utf8")).toBe('{"op":"msg","sid":"s","data":"héllo ✓"}');
    expect(msgFrameBytes("t", f)).not.toBe(a);
    const g = frame('{"data":"héllo ✓"}');
    expect(msgFrameBytes("t", g).toString("utf8")).toBe('{"op":"msg","sid":"t","data":"héllo ✓"}');
  });

  it("turn cork - corks once per turn however many frames, uncorks when the turn's work is done", async () => {
    const calls: string[] = [];
    const socket = { destroyed: false, cork: () => calls.push("cork"), uncork: () => calls.push("uncork") };
    const cork = new TurnCork(socket);
    cork.hold();
    cork.hold();
    cork.hold();
    expect(calls).toEqual(["cork"]);
    await Promise.resolve();
    expect(calls).toEqual(["cork", "uncork"]);
    cork.hold();
    await Promise.resolve();
    expect(calls).toEqual(["cork", "uncork", "cork", "uncork"]);
    socket.destroyed = true;
    cork.hold();
    await Promise.resolve();
    expect(calls).toHaveLength(4);
  });
});
