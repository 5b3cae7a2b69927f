/**
 * A fuzz spec on the wire: `materialize` builds the exact request bytes (large
 * and signed bodies are built at send time, from the spec alone), `wsFrames`
 * the WebSocket frames, `describeSpec` the line that reproduces it.
 */
import { createHmac } from "node:crypto";
import { SECRETS, deepText, noCrLf } from "./fuzz-values.js";
import type { BodySpec, Spec } from "./fuzz-values.js";

/** The body's bytes (deterministic from the spec). */
export function bodyBytes(body: BodySpec): Buffer | undefined {
  switch (body.kind) {
    case "none":
      return undefined;
    case "text":
      return Buffer.from(body.text, "utf8");
    case "bytes":
      return Buffer.from(body.hex, "hex");
    case "deep": {
      const deep = deepText(body.depth, body.open);
      if (body.wrap === "batch") return Buffer.from(`[{"subject":"fz.a","data":${deep}}]`);
      if (body.wrap === "cloudevent") return Buffer.from(`{"specversion":"1.0","id":"1","source":"/x","type":"t","data":${deep}}`);
      return Buffer.from(deep);
    }
    case "huge":
      return body.json ? Buffer.from(`{"s":"${"x".repeat(body.size)}"}`) : Buffer.alloc(body.size, "x");
    case "many":
      return Buffer.from("[" + "{},".repeat(body.count - 1) + "{}]");
  }
}

function signatureHeaders(sign: NonNullable<Spec["sign"]>, body: Buffer): [string, string][] {
  const ts = Math.floor(Date.now() / 1000) - (sign.stale ? 600 : 0);
  const hmac = (key: string | Buffer, ...parts: (string | Buffer)[]) => {
    const h = createHmac("sha256", key);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  switch (sign.source) {
    case "gh":
      return [["X-Hub-Signature-256", `sha256=${hmac(SECRETS.gh, body).toString("hex")}`], ["X-GitHub-Delivery", sign.id]];
    case "sw": {
      const key = Buffer.from(SECRETS.sw.slice("whsec_".length), "base64");
      return [["webhook-id", sign.id], ["webhook-timestamp", String(ts)], ["webhook-signature", `v1,${hmac(key, `${sign.id}.${ts}.`, body).toString("base64")}`]];
    }
    case "sl":
      return [["X-Slack-Request-Timestamp", String(ts)], ["X-Slack-Signature", `v0=${hmac(SECRETS.sl, `v0:${ts}:`, body).toString("hex")}`]];
    case "hm":
      return [["X-Signature", hmac(SECRETS.hm, body).toString("hex")]];
  }
}

/** Characters up to U+00FF as one byte each (raw bytes of the target), others as UTF-8 (as a careless client sends them). */
function rawBytes(text: string): Buffer {
  const out: Buffer[] = [];
  let run = "";
  for (const ch of text) {
    if (ch.codePointAt(0)! <= 0xff) run += ch;
    else {
      out.push(Buffer.from(run, "latin1"), Buffer.from(ch, "utf8"));
      run = "";
    }
  }
  out.push(Buffer.from(run, "latin1"));
  return Buffer.concat(out);
}

/** The exact bytes of an HTTP request for `spec` (mode "http" or "sse"). */
export function materialize(spec: Spec, host: string): Buffer {
  const body = bodyBytes(spec.body);
  const headers: [string, string][] = [];
  if (spec.host !== null) headers.push(["Host", spec.host ?? host]);
  headers.push(["Connection", "close"], ...spec.headers.filter(([n]) => n.toLowerCase() !== "connection" || spec.route === "ws-upgrade"));
  if (spec.sign && body) headers.push(...signatureHeaders(spec.sign, body));
  if (body && spec.chunked) headers.push(["Transfer-Encoding", "chunked"]);
  else if (body) headers.push(["Content-Length", String(body.length)]);
  const head = rawBytes(`${spec.method} ${spec.target} HTTP/1.1\r\n${headers.map(([n, v]) => `${noCrLf(n)}: ${noCrLf(v)}`).join("\r\n")}\r\n\r\n`);
  if (!body) return head;
  if (!spec.chunked) return Buffer.concat([head, body]);
  return Buffer.concat([head, Buffer.from(body.length.toString(16) + "\r\n"), body, Buffer.from("\r\n0\r\n\r\n")]);
}

/** The frames of a "ws" spec as sent ("BIG" is a frame over ws.maxFrameBytes). */
export function wsFrames(spec: Spec): string[] {
  return (spec.frames ?? []).map((f) => (f === "BIG" ? `{"op":"pub","subject":"fz.a","data":"${"x".repeat(1_100_000)}"}` : f));
}

/** A short, printable description of a spec for failure messages. */
export function describeSpec(spec: Spec, index: number, seed: number): string {
  const body = spec.body.kind === "text" && spec.body.text.length > 2_000 ? { kind: "text", head: spec.body.text.slice(0, 2_000), length: spec.body.text.length } : spec.body;
  return JSON.stringify({ seed, index, ...spec, body });
}
