/**
 * The console's part of `/openapi.json`: the page at `/` and its modules under
 * `/console/`, which are public (the APIs the page calls take the credentials).
 */
import type { OpenApiPart } from "./openapi.js";
import { PUBLIC } from "./openapi-common.js";

/** The page's modules and stylesheet under /console/, with their content types. */
export const CONSOLE_ASSETS = {
  "console.js": "text/javascript; charset=utf-8",
  "sse.js": "text/javascript; charset=utf-8",
  "events.js": "text/javascript; charset=utf-8",
  "chart.js": "text/javascript; charset=utf-8",
  "operations.js": "text/javascript; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
} as const;

/** `/` and `/console/{asset}` in `/openapi.json`. */
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
  }),
  components: () => ({}),
};
