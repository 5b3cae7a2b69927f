/**
 * The console's part of `/openapi.json`: the page at `/`, its modules under
 * `/console/` and the browser build of `@natsgate/client` it runs on under
 * `/console/client/`, all public (the APIs the page calls take the credentials).
 */
import type { OpenApiPart } from "./openapi.js";
import { PUBLIC } from "./openapi-common.js";

/** The page's modules and stylesheet under /console/, with their content types. */
export const CONSOLE_ASSETS = {
  "console.js": "text/javascript; charset=utf-8",
  "events.js": "text/javascript; charset=utf-8",
  "chart.js": "text/javascript; charset=utf-8",
  "operations.js": "text/javascript; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
} as const;

/** The modules of `client/dist` (the build of `client/src`) the page imports from /console/client/. */
export const CLIENT_MODULES = ["index.js", "client.js", "envelope.js", "problem.js", "report.js", "sleep.js", "socket.js", "sse.js", "subscribe.js"] as const;

/** `/`, `/console/{asset}` and `/console/client/{module}` in `/openapi.json`. */
export const consoleOpenApi: OpenApiPart = {
  paths: () => ({
    "/": { get: { summary: "The console page: live events, publish form, schemas, webhooks, operations", security: PUBLIC, responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } } },
    "/console/{asset}": {
      get: {
        summary: "One of the console page's modules or its stylesheet",
        security: PUBLIC,
        parameters: [{ name: "asset", in: "path", required: true, schema: { enum: Object.keys(CONSOLE_ASSETS) } }],
        responses: { "200": { description: "JavaScript or CSS", content: { "text/javascript": { schema: { type: "string" } }, "text/css": { schema: { type: "string" } } } } },
      },
    },
    "/console/client/{module}": {
      get: {
        summary: "A module of @natsgate/client's browser build, which the console runs on (import index.js)",
        security: PUBLIC,
        parameters: [{ name: "module", in: "path", required: true, schema: { enum: [...CLIENT_MODULES] } }],
        responses: { "200": { description: "JavaScript", content: { "text/javascript": { schema: { type: "string" } } } } },
      },
    },
  }),
  components: () => ({}),
};
