/** Baseline for bench/publish.ts: a bare Hono handler on @hono/node-server that reads the body and answers 202 (issue 15's definition). */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("/v1/publish/:subject", async (c) => {
  await c.req.arrayBuffer();
  return c.json({ subject: c.req.param("subject") }, 202);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stderr.write(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${info.port}` }) + "\n");
});
process.on("SIGINT", () => process.exit(0));
