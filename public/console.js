// natsgate console: live on everything the caller may see as soon as it opens (GET /v1/me
// names the caller's subscribe rules), with the reason shown when a subscription is
// refused or a token is missing or expired; a rate chart, pause, copy-as-curl; a publish
// form with per-field validation errors; the schema list, webhook status and the
// operations panel (this replica's numbers from /v1/stats).
// Plain browser modules, served as they are (no build step of their own), on top of the
// browser build of @natsgate/client: its subscription resumes from the last event after a
// network loss, an overflow or a gateway restart, and its errors carry the gateway's problem.
import { createClient, ProblemError, TokenExpiredError } from "./client/index.js";
import { RateChart } from "./chart.js";
import { eventItem } from "./events.js";
import { OperationsPanel } from "./operations.js";

const $ = (id) => document.getElementById(id);
const MAX_EVENTS = 500;
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("natsgate.token") ?? "";

// "user:password" signs in with HTTP Basic (UTF-8, RFC 7617); anything else is a bearer
// token. JWTs and the gateway's tokens have no colon.
const isPassword = (value) => value.indexOf(":") > 0;
const authKind = () => (!tokenInput.value ? undefined : isPassword(tokenInput.value) ? "basic" : "bearer");
/** A client for what the token field holds now; a 429 is shown at once, not waited out. */
function clientFor(value) {
  const credentials = !value ? {} : isPassword(value) ? { user: value.slice(0, value.indexOf(":")), password: value.slice(value.indexOf(":") + 1) } : { token: value };
  return createClient({ url: location.origin, maxRetries: 0, ...credentials });
}
let client = clientFor(tokenInput.value);
/** A GET with the current credentials; a refusal comes back as its Response-like status, not thrown. */
const get = (path) =>
  client.fetch(path).catch((err) => {
    if (!(err instanceof ProblemError)) throw err;
    return new Response(JSON.stringify({ title: err.title, detail: err.detail }), { status: err.status, statusText: err.title });
  });
const chart = new RateChart($("rate"));
const operations = new OperationsPanel($("ops"), () => get("/v1/stats"));
let stream = null;
let streams = 0;
let paused = false;
let held = [];

function setStatus(state, text) {
  const el = $("status");
  el.dataset.state = state;
  el.textContent = text;
}

const copy = async (text) => {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (permissions, insecure origin): the selection fallback still works.
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
};

function show(env) {
  const list = $("events");
  list.prepend(eventItem(env, { origin: location.origin, withToken: authKind, copy }));
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function onEvent(env) {
  chart.record();
  if (!paused) return show(env);
  held.push(env);
  if (held.length > MAX_EVENTS) held.shift();
  setStatus("paused", `Paused · ${held.length} new`);
}

const filterSubjects = () => $("filter").value.split(/[\s,]+/).filter(Boolean);

function onStatus(s) {
  const filter = filterSubjects().join(" ");
  if (s.state === "connecting") setStatus("connecting", `Connecting to ${filter}…`);
  else if (s.state === "live") setStatus(paused ? "paused" : "live", paused ? `Paused · ${held.length} new` : `Live: ${filter}`);
  else if (s.state === "retrying") setStatus("retrying", `Reconnecting in ${Math.round(s.inMs / 1000)} s (${s.reason})…`);
  else if (s.state === "closed" && s.error) showRefusal(s.error);
}

function showRefusal(err) {
  if (err instanceof TokenExpiredError) setStatus("expired", "Token expired: enter a new token above to continue.");
  else if (err.status === 401) setStatus("unauthorized", `${err.status} ${err.title}: ${err.detail}. Enter a valid token above.`);
  else setStatus("refused", `${err.status} ${err.title}: ${err.detail}`);
}

function connect() {
  stream?.close();
  const subjects = filterSubjects();
  if (subjects.length === 0) return setStatus("refused", "Nothing to subscribe to: enter one or more subjects.");
  // A replaced subscription's last words (its "closed") must not overwrite the new one's status.
  const mine = ++streams;
  stream = client.subscribe(subjects, { onEvent, onStatus: (s) => mine === streams && onStatus(s) });
}

// Who is calling decides the default filter: everything its subscribe rules allow.
// A newer start (the token changed) wins over an older one still waiting for its answer.
let generation = 0;
async function start() {
  const mine = ++generation;
  stream?.close();
  const res = await get("/v1/me").catch(() => null);
  if (mine !== generation) return;
  if (!res) return setStatus("retrying", "Gateway unreachable; retrying…"), setTimeout(() => mine === generation && start(), 2000);
  const body = await res.json().catch(() => ({}));
  if (mine !== generation) return;
  if (!res.ok) {
    $("whoami").textContent = "";
    const hint = !tokenInput.value ? "Enter a token above." : isPassword(tokenInput.value) ? "Enter a valid user:password or token above." : "Enter a valid token above.";
    return setStatus(res.status === 401 ? "unauthorized" : "refused", `${res.status} ${body.title ?? res.statusText}: ${body.detail ?? ""}. ${hint}`);
  }
  $("whoami").textContent = body.kind === "anonymous" ? "anonymous (auth off)" : `${body.name} (${body.kind}${body.admin ? ", admin" : ""})`;
  // "subject queue" grants are for queue groups; the console subscribes to the plain subjects.
  const subjects = body.subscribe.allow.filter((a) => !a.includes(" "));
  $("filter").value = subjects.join(" ");
  if (subjects.length === 0) return setStatus("refused", `${body.name} may not subscribe to anything.`);
  connect();
}

function togglePause() {
  paused = !paused;
  const button = $("pause");
  button.setAttribute("aria-pressed", String(paused));
  button.textContent = paused ? "Resume" : "Pause";
  if (paused) return setStatus("paused", "Paused · 0 new");
  for (const env of held.splice(0)) show(env);
  setStatus("live", `Live: ${filterSubjects().join(" ")}`);
}

function showResult(ok, title, detail, issues = []) {
  const box = $("result");
  box.hidden = false;
  box.dataset.ok = String(ok);
  box.replaceChildren(Object.assign(document.createElement("strong"), { textContent: title }));
  if (detail) box.append(Object.assign(document.createElement("pre"), { textContent: detail }));
  if (issues.length) {
    const ul = document.createElement("ul");
    for (const i of issues) ul.append(Object.assign(document.createElement("li"), { textContent: `${i.path || "/"}: ${i.message}` }));
    box.append(ul);
  }
}

async function publish(event) {
  event.preventDefault();
  const subject = $("subject").value.trim();
  const body = $("body").value;
  try {
    JSON.parse(body);
  } catch (err) {
    return showResult(false, "Not valid JSON", String(err.message));
  }
  try {
    // The text as typed is what the gateway validates and publishes.
    const result = await client.publish(subject, body, { contentType: "application/json" });
    showResult(true, result.stream ? "201 stored" : "202 published", JSON.stringify(result, null, 2));
  } catch (err) {
    if (!(err instanceof ProblemError)) return showResult(false, "Gateway unreachable", String(err.message));
    showResult(false, `${err.status} ${err.title}`, err.detail, err.errors);
  }
}

async function loadSchemas() {
  const res = await get("/v1/schemas").catch(() => null);
  if (!res?.ok) return;
  const { schemas } = await res.json();
  $("schemas").replaceChildren(
    ...schemas.map((s) => {
      const b = Object.assign(document.createElement("button"), { type: "button", textContent: s.subject, title: s.description ?? "" });
      b.addEventListener("click", () => ($("subject").value = s.subject.replaceAll("*", "example").replace(/>$/, "example")));
      const li = document.createElement("li");
      li.append(b);
      return li;
    }),
  );
}

// Webhook status: needs an admin token when auth is on; refreshed every 10 s.
async function loadWebhooks() {
  const note = $("webhooks-note");
  const res = await get("/v1/webhooks").catch(() => null);
  if (!res || !res.ok) {
    note.textContent = res && (res.status === 401 || res.status === 403) ? "Webhook status needs an admin token." : "Webhooks unavailable.";
    $("webhooks").replaceChildren();
    return;
  }
  const { webhooks } = await res.json();
  note.textContent = webhooks.length ? "" : "No webhooks.";
  $("webhooks").replaceChildren(...webhooks.map(webhookItem));
}

function webhookItem(w) {
  const span = (className, textContent) => Object.assign(document.createElement("span"), { className, textContent });
  const li = document.createElement("li");
  const state = span("state", w.enabled ? "enabled" : "disabled");
  state.dataset.enabled = String(w.enabled);
  const detail = span("detail", w.disabledReason ?? "");
  const test = Object.assign(document.createElement("button"), { type: "button", textContent: "Test" });
  test.addEventListener("click", async () => {
    try {
      const out = await (await client.fetch(`/v1/webhooks/${encodeURIComponent(w.id)}/test`, { method: "POST" })).json();
      detail.textContent = out.delivered ? `test delivered: HTTP ${out.status} in ${out.durationMs} ms` : `test failed: ${out.error ?? `HTTP ${out.status}`}`;
    } catch (err) {
      detail.textContent = `test failed: ${err instanceof ProblemError ? `HTTP ${err.status} ${err.title}` : err.message}`;
    }
  });
  li.append(span("id", w.id), state, span("where", `${w.subjects.join(" ")} → ${new URL(w.url).host} (${w.format})`), test, detail);
  return li;
}

$("subscribe-form").addEventListener("submit", (e) => (e.preventDefault(), connect()));
$("pause").addEventListener("click", togglePause);
$("publish-form").addEventListener("submit", publish);
// A token typed then tabbed away from fires change twice (Enter, then blur): act once per value.
let startedWith = tokenInput.value;
tokenInput.addEventListener("change", () => {
  if (tokenInput.value === startedWith) return;
  startedWith = tokenInput.value;
  // A token is remembered for the next visit; a password never is (it stays in this page only).
  if (isPassword(tokenInput.value)) localStorage.removeItem("natsgate.token");
  else localStorage.setItem("natsgate.token", tokenInput.value);
  client = clientFor(tokenInput.value);
  start();
  loadSchemas();
  loadWebhooks();
  operations.resume();
});
start();
loadSchemas();
loadWebhooks();
operations.refresh();
setInterval(loadWebhooks, 10_000);
