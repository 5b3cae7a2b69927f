/** `server.fastPublish: false`: the Node fast path is off and Hono serves every publish. */
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { useGateway } from "../support/fixture.js";
import { rawRequest } from "../support/raw-http.js";

const f = useGateway({ server: { fastPublish: false } });

describe("server.fastPublish: false", () => {
  it("a plain publish is served through Hono: the fast path takes nothing, the answer is the same 202", async () => {
    const taken: IncomingMessage[] = [];
    const url = await f.gw.listenAgain({ onFastPublish: (req) => taken.push(req) });
    const sub = f.nc.subscribe("orders.off", { max: 1 });
    await f.nc.flush();
    const body = '{"id":1}';
    const res = await rawRequest(url, { path: "/v1/publish/orders.off", head: ["Content-Type: application/json", `Content-Length: ${body.length}`], body });
    expect(res).toMatchObject({ status: 202, body: '{"subject":"orders.off"}' });
    expect(res!.headers["x-content-type-options"]).toEqual(["nosniff"]);
    for await (const m of sub) expect(m.string()).toBe(body);
    expect(taken).toEqual([]);
  });
});
