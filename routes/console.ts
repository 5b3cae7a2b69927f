/** `GET /`: the console page (live events, publish form, schemas), plain HTML/CSS/JS. */
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import type { AppEnv } from "../src/http/env.js";
import { readPackageFile } from "../src/node/package-root.js";

const asset = (name: string) => readPackageFile(`public/${name}`);

/** Console routes; the page itself is public, the APIs it calls need a token when auth is on. */
export function consoleRoutes(_gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const files = {
    html: asset("console.html"),
    js: asset("console.js"),
    css: asset("console.css"),
  };
  const csp = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
  app.get("/", (c) => c.body(files.html, 200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp }));
  app.get("/console/console.js", (c) => c.body(files.js, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }));
  app.get("/console/console.css", (c) => c.body(files.css, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache" }));
  return app;
}
