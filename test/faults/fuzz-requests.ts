/**
 * The fuzzer's requests: fast-check arbitraries over every route of the gateway
 * (routes/*.ts), producing small, printable specs that fuzz-wire.ts turns into
 * the exact bytes sent, so a spec printed in a failure message reproduces the request.
 */
import fc from "fast-check";
import { ADMIN_TOKEN, FUZZ_TOKEN, anyBodyArb, authArb, authParts, batchBodyArb, contentTypeArb, cursorArb, encodePart, encodingArb, headersArb, jsonTextArb, methodArb, noCrLf, prefixArb, requestSubjectArb, sometimes, subjectArb, subjectPathArb, webhookDefArb, webhookIdArb, deepText } from "./fuzz-values.js";
import type { AuthPlacement, BodySpec, Spec } from "./fuzz-values.js";

const withAuth = (spec: Omit<Spec, "headers"> & { headers: [string, string][] }, auth: [AuthPlacement, string]): Spec => {
  const { headers, query } = authParts(auth);
  const target = query.length === 0 ? spec.target : spec.target + (spec.target.includes("?") ? "&" : "?") + query.join("&");
  return { ...spec, target, headers: [...headers, ...spec.headers] };
};

const publishArb = fc
  .tuple(methodArb("POST"), prefixArb("/v1/publish/"), subjectPathArb, headersArb, contentTypeArb, anyBodyArb, authArb, fc.boolean())
  .map(([method, prefix, subject, headers, ct, body, auth, chunked]): Spec =>
    withAuth({ route: "publish", mode: "http", method, target: prefix + subject, headers: [["Content-Type", ct], ...headers], body, chunked: chunked && body.kind !== "none" }, auth),
  );

const batchArb = fc
  .tuple(methodArb("POST"), prefixArb("/v1/publish"), headersArb, fc.constantFrom("application/x-ndjson", "application/json", "text/plain", "application/x-ndjson; charset=utf-8", ""), batchBodyArb, authArb)
  .map(([method, path, headers, ct, body, auth]): Spec => withAuth({ route: "batch", mode: "http", method, target: path, headers: [["Content-Type", ct], ...headers], body }, auth));

const timeoutParamArb = fc.oneof(
  fc.constant(""),
  fc.integer({ min: 2_000, max: 60_000 }).map((n) => `?timeout=${n}`),
  fc.constantFrom("?timeout=0", "?timeout=-1", "?timeout=60001", "?timeout=1e3", "?timeout=abc", "?timeout=", "?timeout=99999999999999999999", "?timeout=%zz", "?timeout=2000&timeout=1"),
);
const requestRouteArb = fc
  .tuple(methodArb("POST"), prefixArb("/v1/request/"), requestSubjectArb, encodingArb, timeoutParamArb, headersArb, anyBodyArb, authArb)
  .map(([method, prefix, subject, enc, timeout, headers, body, auth]): Spec =>
    withAuth({ route: "request", mode: "http", method, target: prefix + encodePart(subject, enc) + timeout, headers: [["Content-Type", "application/json"], ...headers], body }, auth),
  );

const patternArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("fz.>", "fz.js.>", "fz.*", "fz.js.a", "transfer.>", ">", "fz.js.*", "fz.secret.>", "fz.a") },
  { weight: 3, arbitrary: subjectArb },
);
const queryValueArb = fc.tuple(patternArb, encodingArb).map(([s, e]) => encodePart(s, e));
const subscribeArb = fc
  .tuple(
    fc.array(queryValueArb, { minLength: 0, maxLength: 3 }),
    fc.constantFrom(0, 0, 0, 0, 0, 0, 33),
    sometimes(fc.constantFrom("workers", "workers", "others", "", "a b", "%zz", "w.x"), 8),
    sometimes(fc.constantFrom("all", "last", "new", "all", "last", "new", "ALL", "", "x"), 4),
    sometimes(fc.constantFrom("2026-11-24T20:00:00Z", "2020-01-01T00:00:00Z", "2026-11-24", "yesterday", "0", "9999-12-31T23:59:59Z", "2026-11-24T20:00:00+25:00"), 8),
    sometimes(fc.oneof(fc.constantFrom("FZ:0", "FZ:1", "FZ:10"), cursorArb).map((c) => encodePart(c, "component")), 6),
    headersArb,
    authArb,
    methodArb("GET"),
  )
  .map(([subjects, many, queue, deliver, since, lastEventId, headers, auth, method]): Spec => {
    const q = [...subjects.map((s) => `subject=${s}`), ...Array.from({ length: many }, (_, i) => `subject=fz.m${i}`)];
    if (queue !== undefined) q.push(`queue=${queue}`);
    if (deliver !== undefined) q.push(`deliver=${deliver}`);
    if (since !== undefined) q.push(`since=${since}`);
    if (lastEventId !== undefined) q.push(`lastEventId=${lastEventId}`);
    return withAuth({ route: "subscribe", mode: "sse", method, target: `/v1/subscribe${q.length ? "?" + q.join("&") : ""}`, headers, body: { kind: "none" } }, auth);
  });

const wsRawArb = fc
  .tuple(
    fc.constantFrom("websocket", "WebSocket", "", "h2c", "websocket, x"),
    fc.constantFrom("Upgrade", "upgrade, keep-alive", "", "keep-alive", "close"),
    fc.constantFrom("dGhlIHNhbXBsZSBub25jZQ==", "", "short", "x".repeat(100)),
    fc.constantFrom("13", "8", "", "abc"),
    fc.option(fc.constantFrom("json", "", "a,b"), { nil: undefined }),
    authArb,
    methodArb("GET"),
    prefixArb("/v1/ws"),
  )
  .map(([upgrade, connection, key, version, protocol, auth, method, path]): Spec => {
    const headers: [string, string][] = [];
    if (upgrade) headers.push(["Upgrade", upgrade]);
    if (connection) headers.push(["Connection", connection]);
    if (key) headers.push(["Sec-WebSocket-Key", key]);
    if (version) headers.push(["Sec-WebSocket-Version", version]);
    if (protocol !== undefined) headers.push(["Sec-WebSocket-Protocol", protocol]);
    return withAuth({ route: "ws-upgrade", mode: "http", method, target: path, headers, body: { kind: "none" } }, auth);
  });

const wsFrameArb = fc.oneof(
  fc.record({ op: fc.constant("pub"), id: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), subject: subjectArb, data: fc.jsonValue({ maxDepth: 3 }), headers: fc.option(fc.dictionary(fc.constantFrom("Idempotency-Key", "NatsH-X", "NatsH-Nats-Rollup", "traceparent"), fc.string({ maxLength: 8 }), { maxKeys: 2 }), { nil: undefined }) }).map((v) => JSON.stringify(v)),
  fc.constantFrom(65, 1_001, 5_000).map((d) => `{"op":"pub","id":"deep","subject":"fz.a","data":${deepText(d, "[")}}`),
  fc.record({ op: fc.constant("sub"), sid: fc.string({ maxLength: 4 }), subject: subjectArb, queue: fc.option(fc.constantFrom("workers", "x"), { nil: undefined }), lastEventId: fc.option(cursorArb, { nil: undefined }) }).map((v) => JSON.stringify(v)),
  fc.record({ op: fc.constant("unsub"), sid: fc.string({ maxLength: 4 }) }).map((v) => JSON.stringify(v)),
  fc.record({ op: fc.constant("req"), id: fc.string({ maxLength: 4 }), subject: requestSubjectArb, data: fc.jsonValue({ maxDepth: 2 }), timeout: fc.option(fc.oneof(fc.integer({ min: 2_000, max: 10_000 }), fc.constantFrom(0, -1, 1.5, "100", 60_001)), { nil: undefined }) }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{"op":"ping"}', "{}", "null", "[]", '{"op":"pub"}', '{"op":"sub","sid":1}', '{"op":"nope"}', "not json", '{"op":"pub","subject":"fz.a","data":1}'.repeat(2), "\u0000"),
  fc.string({ maxLength: 30 }),
  fc.constant("BIG"),
);
const wsArb = fc
  .tuple(fc.array(wsFrameArb, { maxLength: 6 }), fc.constantFrom<AuthPlacement>("bearer", "query", "cookie", "none"), fc.constantFrom(FUZZ_TOKEN, ADMIN_TOKEN, "wrong"))
  .map(([frames, placement, token]): Spec => withAuth({ route: "ws", mode: "ws", method: "GET", target: "/v1/ws", headers: [], body: { kind: "none" }, frames }, [placement, token]));

const hooksArb = fc
  .tuple(
    fc.constantFrom("gh", "sw", "sl", "hm", "nope", "%67h", "gh/", "GH", "a".repeat(300), ""),
    fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 2, arbitrary: fc.constant(false) }),
    fc.boolean(),
    fc.oneof(fc.constantFrom("dup-1", "dup-2", "", "x".repeat(300)), fc.string({ maxLength: 10 }).map(noCrLf)),
    headersArb,
    fc.oneof({ weight: 4, arbitrary: jsonTextArb.map((text): BodySpec => ({ kind: "text", text })) }, { weight: 1, arbitrary: anyBodyArb }),
    methodArb("POST"),
    fc.boolean(),
  )
  .map(([name, sign, stale, id, headers, body, method, staleOnly]): Spec => {
    const source = (["gh", "sw", "sl", "hm"] as const).find((s) => s === name);
    return {
      route: "hooks",
      mode: "http",
      method,
      target: `/v1/hooks/${name}`,
      headers: [["Content-Type", "application/json"], ...headers],
      body,
      ...(sign && source ? { sign: { source, id, stale: stale && staleOnly } } : {}),
    };
  });

const webhooksArb = fc
  .tuple(
    fc.constantFrom("list", "create", "get", "put", "delete", "deliveries", "test", "replay"),
    webhookIdArb.map((id) => encodePart(id, "component")),
    fc.oneof({ weight: 5, arbitrary: webhookDefArb.map((text): BodySpec => ({ kind: "text", text })) }, { weight: 2, arbitrary: anyBodyArb }, { weight: 2, arbitrary: fc.constantFrom("FZ:0", "FZ:-1", "2026-01-01T00:00:00Z", "garbage", 123, null).map((from): BodySpec => ({ kind: "text", text: JSON.stringify({ from }) })) }),
    fc.constantFrom("", "?limit=1", "?limit=0", "?limit=abc", "?limit=1001", "?limit=99999999999999999999"),
    headersArb,
    authArb,
    fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("PATCH", "HEAD", "OPTIONS") }),
  )
  .map(([op, id, body, limit, headers, auth, oddMethod]): Spec => {
    const [method, target] = {
      list: ["GET", "/v1/webhooks"],
      create: ["POST", "/v1/webhooks"],
      get: ["GET", `/v1/webhooks/${id}`],
      put: ["PUT", `/v1/webhooks/${id}`],
      delete: ["DELETE", `/v1/webhooks/${id}`],
      deliveries: ["GET", `/v1/webhooks/${id}/deliveries${limit}`],
      test: ["POST", `/v1/webhooks/${id}/test`],
      replay: ["POST", `/v1/webhooks/${id}/replay`],
    }[op] as [string, string];
    const hasBody = op === "create" || op === "put" || op === "replay";
    return withAuth({ route: `webhooks-${op}`, mode: "http", method: oddMethod ?? method, target, headers: [["Content-Type", "application/json"], ...headers], body: hasBody ? body : { kind: "none" } }, auth);
  });

const deadLettersArb = fc
  .tuple(
    fc.boolean(),
    fc.constantFrom("", "?webhook=wh-0", "?webhook=%zz", "?after=1", "?after=-1", "?after=abc", "?limit=0", "?limit=1001", "?limit=5&after=2", "?webhook=" + "a".repeat(100)),
    fc.constantFrom("1", "2", "0", "-1", "abc", "99999999999999999999", "1.5", "%31", "1e3"),
    authArb,
  )
  .map(([list, query, id, auth]): Spec =>
    withAuth(list ? { route: "dead-letters", mode: "http", method: "GET", target: `/v1/dead-letters${query}`, headers: [], body: { kind: "none" } } : { route: "dead-letters-retry", mode: "http", method: "POST", target: `/v1/dead-letters/${id}/retry`, headers: [], body: { kind: "none" } }, auth),
  );

const schemasArb = fc.tuple(fc.option(subjectPathArb, { nil: undefined }), authArb, methodArb("GET")).map(([subject, auth, method]): Spec =>
  withAuth({ route: "schemas", mode: "http", method, target: subject === undefined ? "/v1/schemas" : `/v1/schemas/${subject}`, headers: [], body: { kind: "none" } }, auth),
);
const meArb = fc.tuple(authArb, methodArb("GET"), headersArb).map(([auth, method, headers]): Spec => withAuth({ route: "me", mode: "http", method, target: "/v1/me", headers, body: { kind: "none" } }, auth));
const consoleArb = fc.tuple(fc.constantFrom("/", "/console/console.js", "/console/client/index.js", "/console/client/nope.js", "/console/events.js", "/console/chart.js", "/console/console.css", "/console/nope.js", "/console/../package.json", "/console/%2e%2e/package.json", "/console/"), methodArb("GET")).map(([target, method]): Spec => ({ route: "console", mode: "http", method, target, headers: [], body: { kind: "none" } }));
const probesArb = fc.tuple(fc.constantFrom("/healthz", "/readyz", "/openapi.json", "/healthz?x=%zz", "/openapi.json/"), methodArb("GET")).map(([target, method]): Spec => ({ route: "probes", mode: "http", method, target, headers: [], body: { kind: "none" } }));
const randomArb = fc
  .tuple(
    fc.oneof(fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "PROPFIND", "BREW"), fc.stringMatching(/^[A-Z]{1,8}$/)),
    fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => "/" + encodePart(s, "raw")),
      fc.constantFrom("*", "/%", "/%00", "//", "/v1", "/v1/", "/v1/publish", "/v1/publish/", "/v1/request", "/v1/ws/x", "/v1/subscribe/x", "/v1/webhooks//deliveries", "/v1/dead-letters/", "http://127.0.0.1/healthz", "/v1/publish/a%2Fb", "/v1/%2e%2e/healthz"),
    ),
    headersArb,
    anyBodyArb,
    authArb,
    fc.option(fc.constantFrom("", "a b", "[::1", "127.0.0.1:0", "x".repeat(300), "évil"), { nil: undefined }),
  )
  .map(([method, target, headers, body, auth, host]): Spec => ({ ...withAuth({ route: "random", mode: "http", method, target, headers, body }, auth), ...(host === undefined ? {} : { host: host === "" ? null : host }) }));

/** Every route, weighted roughly by how much surface each has. */
export const requestArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 20, arbitrary: publishArb },
  { weight: 8, arbitrary: batchArb },
  { weight: 6, arbitrary: requestRouteArb },
  { weight: 10, arbitrary: subscribeArb },
  { weight: 4, arbitrary: wsRawArb },
  { weight: 3, arbitrary: wsArb },
  { weight: 6, arbitrary: hooksArb },
  { weight: 10, arbitrary: webhooksArb },
  { weight: 3, arbitrary: deadLettersArb },
  { weight: 3, arbitrary: schemasArb },
  { weight: 3, arbitrary: meArb },
  { weight: 2, arbitrary: consoleArb },
  { weight: 2, arbitrary: probesArb },
  { weight: 4, arbitrary: randomArb },
);

// ---- bytes -----------------------------------------------------------------------------------
