/**
 * `GET /`: the console page (live events, publish form, schemas, webhooks,
 * operations), plain HTML/CSS/JS modules on top of `@natsgate/client`'s build.
 */
import { Hono } from "hono";
import type { Gateway } from "../src/gateway.js";
import { CLIENT_MODULES, CONSOLE_ASSETS } from "../src/http/console-openapi.js";
import type { AppEnv } from "../src/http/env.js";
import { readPackageFile } from "../src/node/package-root.js";

/** Console routes; the page itself is public, the APIs it calls need a token when auth is on. */
export function consoleRoutes(_gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const html = readPackageFile("public/console.html");
  const csp = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
  app.get("/", (c) => c.body(html, 200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp }));
  for (const [name, type] of Object.entries(CONSOLE_ASSETS)) {
    const body = readPackageFile(`public/${name}`);
    app.get(`/console/${name}`, (c) => c.body(body, 200, { "content-type": type, "cache-control": "no-cache" }));
  }
  for (const name of CLIENT_MODULES) {
    // The maps point at client/src, which is not served: without the comment devtools asks for nothing.
    const body = clientModule(name).replace(/^\/\/# sourceMappingURL=.*$/m, "");
    app.get(`/console/client/${name}`, (c) => c.body(body, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }));
  }
  return app;
}

/** One module of the client's build; `npm run build` (also run by `npm ci` and `npm start`) makes it. */
function clientModule(name: string): string {
  try {
    return readPackageFile(`client/dist/${name}`);
  } catch (cause) {
    throw new Error(`natsgate: the console needs client/dist/${name}; run \`npm run build\``, { cause });
  }
}
