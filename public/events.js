// One live event as the console shows it: subject, time, stream/seq, trace id and headers,
// pretty JSON, and a button that copies it as a curl command that publishes it again.

const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
function append(node, children) {
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

/** Quotes a string for a POSIX shell. */
export const shellQuote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

// Headers a republish must not copy: a new trace, and no de-duplication against the original.
const SKIPPED = new Set(["traceparent", "tracestate", "baggage", "idempotency-key", "content-type"]);

/** The curl command that publishes `env` again through the gateway at `origin`. */
export function curlFor(env, origin, withToken = false) {
  const json = typeof env.data !== "string";
  const contentType = env.headers?.["Content-Type"] ?? (json ? "application/json" : "text/plain");
  const parts = ["curl", "-X", "POST", shellQuote(`${origin}/v1/publish/${env.subject}`), "-H", shellQuote(`content-type: ${contentType}`)];
  if (withToken) parts.push("-H", '"authorization: Bearer $NATSGATE_TOKEN"');
  for (const [name, value] of Object.entries(env.headers ?? {})) {
    if (!SKIPPED.has(name.toLowerCase())) parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  parts.push("--data-binary", shellQuote(json ? JSON.stringify(env.data) : env.data));
  return parts.join(" ");
}

/** The trace id of a W3C traceparent (`00-<trace-id>-<span-id>-<flags>`), if any. */
export function traceId(headers) {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(headers?.traceparent ?? "");
  return m?.[1];
}

/** The list item for one envelope. `copy(text)` puts the curl command on the clipboard. */
export function eventItem(env, { origin, withToken, copy }) {
  const li = el("li");
  li.dataset.subject = env.subject;
  const meta = el("div", { className: "meta" });
  append(meta, [el("span", { className: "subject", textContent: env.subject }), el("time", { dateTime: env.time, textContent: new Date(env.time).toLocaleTimeString() })]);
  if (env.stream) meta.append(el("span", { className: "position", textContent: `${env.stream} #${env.seq}` }));
  const trace = traceId(env.headers);
  if (trace) meta.append(el("span", { className: "trace", title: env.headers.traceparent, textContent: `trace ${trace}` }));
  const button = el("button", { type: "button", className: "copy", textContent: "Copy as curl", title: "Copy a curl command that publishes this event again" });
  button.addEventListener("click", async () => {
    const ok = await copy(curlFor(env, origin, withToken()));
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = "Copy as curl"), 1500);
  });
  meta.append(button);
  li.append(meta);
  if (env.headers && Object.keys(env.headers).length) {
    const dl = el("dl", { className: "headers" });
    for (const [name, value] of Object.entries(env.headers)) append(dl, [el("dt", { textContent: name }), el("dd", { textContent: value })]);
    li.append(dl);
  }
  li.append(el("pre", { className: "data", textContent: typeof env.data === "string" ? env.data : JSON.stringify(env.data, null, 2) }));
  return li;
}
