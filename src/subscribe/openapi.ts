/**
 * The streaming part of `/openapi.json`: `GET /v1/subscribe` (Server-Sent
 * Events, whose `data:` lines are envelopes) and `GET /v1/ws` (an upgrade, then
 * the JSON text frames of DESIGN.md). OpenAPI has no words for frames, so their
 * JSON Schemas are components (`WsClientFrame`, `WsServerFrame`) that the
 * upgrade's operation names, and code generators turn into types like any other.
 */
import type { ErrorResponse, OpenApiPart } from "../http/openapi.js";
import { authResponses, STREAM_SECURITY } from "../http/openapi-common.js";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = { type: "string" };
const sid = { type: ["string", "number"], description: "The client's name for the subscription (up to 64 characters)" };
const headers = { type: "object", additionalProperties: { type: "string" }, description: "NATS headers under their HTTP names (DESIGN.md's mapping)" };
const op = (name: string) => ({ const: name });

/** Frames a client sends on `/v1/ws`, by component name; each one's `op` is the lowercase name without `Ws`. */
const clientFrames = {
  WsSub: {
    type: "object",
    required: ["op", "sid", "subject"],
    properties: {
      op: op("sub"),
      sid,
      subject: str,
      queue: str,
      lastEventId: { type: "string", description: "Resume after this cursor (subjects a stream captures)" },
      since: { type: "string", format: "date-time", description: "Without a cursor: start at this time (subjects a stream captures)" },
      deliver: { enum: ["all", "last", "new"], description: "Without a cursor or since: where to start (default new)" },
    },
  },
  WsUnsub: { type: "object", required: ["op", "sid"], properties: { op: op("unsub"), sid } },
  WsPub: {
    type: "object",
    required: ["op", "subject", "data"],
    properties: { op: op("pub"), id: { type: ["string", "number"], description: "Echoed in the ack" }, subject: str, data: {}, headers },
  },
  WsReq: {
    type: "object",
    required: ["op", "id", "subject", "data"],
    properties: { op: op("req"), id: { type: ["string", "number"] }, subject: str, data: {}, timeout: { type: "integer", minimum: 1, maximum: 60_000, description: "ms" } },
  },
  WsPing: { type: "object", required: ["op"], properties: { op: op("ping") } },
};

/** Frames the gateway sends on `/v1/ws`. */
const serverFrames = {
  WsMsg: {
    description: "A delivered message: the envelope's fields beside op and sid, and its cursor where a stream holds it",
    allOf: [ref("Envelope"), { type: "object", required: ["op", "sid"], properties: { op: op("msg"), sid, cursor: str } }],
  },
  WsAck: {
    description: "A pub's outcome: its status and the publish result",
    allOf: [ref("PublishResult"), { type: "object", required: ["op", "status"], properties: { op: op("ack"), id: { type: ["string", "number"] }, status: { type: "integer" } } }],
  },
  WsReply: { type: "object", required: ["op", "id", "data"], properties: { op: op("reply"), id: { type: ["string", "number"] }, data: {}, headers } },
  WsErr: {
    type: "object",
    required: ["op", "status", "title", "detail"],
    description: "A frame refused (the socket stays open): the problem of the HTTP route that would have refused it",
    properties: {
      op: op("err"),
      id: { type: ["string", "number"] },
      sid,
      status: { type: "integer" },
      title: str,
      detail: str,
      errors: { type: "array", items: { type: "object", properties: { path: str, message: str } } },
    },
  },
  WsPong: { type: "object", required: ["op", "time"], properties: { op: op("pong"), time: { type: "string", format: "date-time", description: "The gateway's clock when it answered" } } },
};

/** One of `frames`, told apart by `op`. */
function byOp(frames: Record<string, object>): object {
  const names = Object.keys(frames);
  return { oneOf: names.map(ref), discriminator: { propertyName: "op", mapping: Object.fromEntries(names.map((n) => [n.slice(2).toLowerCase(), ref(n).$ref])) } };
}

function paths(err: ErrorResponse): Record<string, object> {
  return {
    "/v1/subscribe": {
      get: {
        summary: "Server-Sent Events from NATS subjects (wildcards), resumable",
        description:
          "Each message is `id: <cursor>` (where a stream captures the subject) and `data: <Envelope JSON>`. " +
          "The stream ends with `event: overflow`, `expired` or `shutdown` (data `{\"reason\"}`); resume with Last-Event-ID.",
        security: STREAM_SECURITY,
        parameters: [
          { name: "subject", in: "query", required: true, style: "form", explode: true, schema: { type: "array", items: str, minItems: 1, maxItems: 32 }, description: "Subjects or patterns, one parameter each" },
          { name: "queue", in: "query", schema: str, description: "Join a queue group (needs a `subject queue` grant)" },
          { name: "deliver", in: "query", schema: { enum: ["all", "last", "new"], default: "new" } },
          { name: "since", in: "query", schema: { type: "string", format: "date-time" }, description: "Start at this RFC 3339 time" },
          { name: "Last-Event-ID", in: "header", schema: str, description: "Resume after this cursor" },
          { name: "lastEventId", in: "query", schema: str, description: "Last-Event-ID for clients that cannot set headers" },
        ],
        responses: {
          "200": { description: "The event stream", content: { "text/event-stream": { schema: { type: "string" }, "x-natsgate-data": ref("Envelope") } } },
          "400": err("No subject, too many, a bad subject, cursor, deliver or since"),
          "403": err("A subject not permitted"),
          ...authResponses(err),
          "503": err("NATS unavailable (Retry-After)"),
        },
      },
    },
    "/v1/ws": {
      get: {
        summary: "WebSocket: subscribe, publish and request with JSON text frames",
        description: "Client frames: WsClientFrame; gateway frames: WsServerFrame. A client too far behind is closed with 1013, an expired token with 1008.",
        security: STREAM_SECURITY,
        parameters: [
          { name: "Upgrade", in: "header", required: true, schema: { const: "websocket" } },
          { name: "Connection", in: "header", required: true, schema: { type: "string" }, description: "Must list upgrade" },
        ],
        "x-natsgate-frames": { client: ref("WsClientFrame"), server: ref("WsServerFrame") },
        responses: {
          "101": { description: "Switched to WebSocket; frames are WsClientFrame and WsServerFrame" },
          "400": err("Not a WebSocket upgrade"),
          ...authResponses(err),
        },
      },
    },
  };
}

function components(): Record<string, object> {
  return {
    Envelope: {
      type: "object",
      required: ["subject", "data", "time"],
      description: "One NATS message as it leaves the gateway (SSE data, WebSocket msg, webhook body)",
      properties: { subject: str, data: { description: "The payload: parsed JSON where it is JSON, else its text" }, headers, stream: str, seq: { type: "integer" }, time: { type: "string", format: "date-time" } },
    },
    ...clientFrames,
    ...serverFrames,
    WsClientFrame: byOp(clientFrames),
    WsServerFrame: byOp(serverFrames),
  };
}

/** `/v1/subscribe` and `/v1/ws` in `/openapi.json`. */
export const streamOpenApi: OpenApiPart = { paths, components };
