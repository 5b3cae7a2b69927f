// One live event as the console shows it: subject, time, stream/seq, trace id and headers,
// pretty JSON, and a button that copies it as a curl command that publishes it again.

const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
function append(node, children) {
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

/** Quotes a string for a POSIX shell. */
export const shellQuote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

// Headers a republish must not copy: a new trace, no de-duplication against the original,
// and no JetStream expectations (NatsH-Nats-*) that held for the original only.
const SKIPPED = new Set(["traceparent", "tracestate", "baggage", "idempotency-key", "content-type"]);
const skipped = (name) => SKIPPED.has(name.toLowerCase()) || /^natsh-nats-/i.test(name);
// Header text safe inside single quotes in every common shell (bash, dash, zsh, fish,
// PowerShell): no quote of any kind, no backslash, no control character.
const PLAIN = /^[A-Za-z0-9 _.,;:=\/+@()#%&?~*-]*$/;

function base64(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The shell command that publishes `env` again through the gateway at `origin`.
 * Event content is attacker-controlled, so none of it is quoted into the command
 * as it is: the body goes through stdin as base64 (a `--data-binary` value
 * starting with `@` would make curl upload a local file; quotes differ between
 * shells), the subject is percent-encoded with curl's URL globbing off (`-g`),
 * and a header whose text is not plain is left out.
 */
export function curlFor(env, origin, withToken = false) {
  const json = typeof env.data !== "string";
  const body = json ? JSON.stringify(env.data) : env.data;
  const contentType = env.headers?.["Content-Type"] ?? (json ? "application/json" : "text/plain");
  const subject = encodeURIComponent(env.subject).replace(/['()!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts = ["curl", "-g", "-X", "POST", shellQuote(`${origin}/v1/publish/${subject}`)];
  if (PLAIN.test(contentType)) parts.push("-H", shellQuote(`content-type: ${contentType}`));
  // The secret stays in the shell's environment, never in the copied text.
  if (withToken === "basic") parts.push("-u", '"$NATSGATE_USER:$NATSGATE_PASSWORD"');
  else if (withToken) parts.push("-H", '"authorization: Bearer $NATSGATE_TOKEN"');
  for (const [name, value] of Object.entries(env.headers ?? {})) {
    if (!skipped(name) && PLAIN.test(name) && PLAIN.test(value)) parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  parts.push("--data-binary", "@-");
  return `printf '%s' ${shellQuote(base64(body))} | base64 -d | ${parts.join(" ")}`;
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
