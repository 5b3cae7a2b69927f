import { describe, expect, it } from "vitest";
import { CatchUp } from "../../src/subscribe/catch-up.js";
import type { Frame } from "../../src/subscribe/feed.js";

const f = (seq: number, pending?: number): Frame => ({ subject: "s", text: `#${seq}`, env: "{}", stream: "S", seq, pending });
const core = (text: string): Frame => ({ subject: "s", text, env: "{}" });

function run(start: number, livePos: number) {
  const out: string[] = [];
  const c = new CatchUp((fr) => out.push(fr.text), new Map([["S", livePos]]), ["S"], new Map([["S", start]]));
  let switched = 0;
  c.onSwitch = () => switched++;
  return { c, out, switches: () => switched };
}

describe("catch-up handoff", () => {
  it("holds live frames until the replay reaches the live position, then delivers each once, in order", () => {
    const { c, out, switches } = run(10, 14);
    c.live(f(15));
    c.live(core("core-a"));
    for (const s of [11, 12, 13]) c.replay(f(s));
    expect(out).toEqual(["#11", "#12", "#13"]);
    c.replay(f(14));
    expect(switches()).toBe(1);
    c.replay(f(15)); // the replay may race ahead; after the switch it is ignored
    c.live(f(15)); // and a live duplicate is dropped
    c.live(f(16));
    expect(out).toEqual(["#11", "#12", "#13", "#14", "#15", "core-a", "#16"]);
  });

  it("replay frames arriving after the switch are ignored; the live feed carries on without gaps", () => {
    const { c, out } = run(0, 2);
    for (const s of [1, 2, 3, 4]) c.replay(f(s));
    c.live(f(3));
    c.live(f(4));
    c.live(f(5));
    expect(out).toEqual(["#1", "#2", "#3", "#4", "#5"]);
  });

  it("pending 0 on a replayed frame means caught up even below the live position", () => {
    const { c, out, switches } = run(0, 100);
    c.live(f(101));
    c.replay(f(7, 0));
    expect(switches()).toBe(1);
    expect(out).toEqual(["#7", "#101"]);
  });

  it("replayed messages that match no pattern still move the replay past the live position", () => {
    const { c, out, switches } = run(0, 5);
    c.live(core("core-live"));
    c.replay(f(2));
    c.skipped("S", 3, undefined);
    expect(switches()).toBe(0);
    c.skipped("S", 5, undefined);
    expect(switches()).toBe(1);
    expect(out).toEqual(["#2", "core-live"]);
    const last = run(0, 9);
    last.c.skipped("S", 4, 0); // nothing after it in the stream
    expect(last.switches()).toBe(1);
  });

  it("more live frames waiting than maxHeld ends the client (overflow) instead of growing memory", () => {
    const out: string[] = [];
    const c = new CatchUp((fr) => out.push(fr.text), new Map([["S", 100]]), ["S"], new Map([["S", 0]]), 3);
    let overflows = 0;
    c.onOverflow = () => overflows++;
    for (const s of [101, 102, 103]) c.live(f(s));
    expect(overflows).toBe(0);
    c.live(f(104));
    c.live(f(105));
    expect(overflows).toBe(1);
    c.replay(f(100));
    expect(out).toEqual(["#100"]);
  });

  it("frames at or before the start cursor are never delivered", () => {
    const { c, out } = run(10, 10);
    c.live(f(9));
    c.caughtUp("S");
    c.live(f(10));
    c.live(f(11));
    expect(out).toEqual(["#11"]);
  });
});
