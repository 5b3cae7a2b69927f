// natsgate console: live on everything the caller may see as soon as it opens (GET /v1/me
// names the caller's subscribe rules), with the reason shown when a subscription is
// refused or a token is missing or expired; a rate chart, pause, copy-as-curl; a publish
// form with per-field validation errors; the schema list, webhook status and the
// operations panel (this replica's numbers from /v1/stats).
// Plain browser modules, served as they are (no build step).
import { RateChart } from "./chart.js";
import { eventItem } from "./events.js";
import { OperationsPanel } from "./operations.js";
import { openStream } from "./sse.js";

const $ = (id) => document.getElementById(id);
const MAX_EVENTS = 500;
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("natsgate.token") ?? "";

// "user:password" signs in with HTTP Basic (UTF-8, RFC 7617); anything else is a bearer
// token. JWTs and the gateway's tokens have no colon.
const isPassword = (value) => value.indexOf(":") > 0;
const utf8Base64 = (text) => btoa(Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join(""));
const authKind = () => (!tokenInput.value ? undefined : isPassword(tokenInput.value) ? "basic" : "bearer");
const authHeaders = () => {
  const value = tokenInput.value;
  if (!value) return {};
  return { authorization: isPassword(value) ? `Basic ${utf8Base64(value)}` : `Bearer ${value}` };
};
const chart = new RateChart($("rate"));
const operations = new OperationsPanel($("ops"), () => fetch("/v1/stats", { headers: authHeaders() }));
let stream = null;
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
  else if (s.state === "expired") setStatus("expired", "Token expired: enter a new token above to continue.");
  else if (s.state === "refused" && s.status === 401) setStatus("unauthorized", `${s.status} ${s.title}: ${s.detail}. Enter a valid token above.`);
  else if (s.state === "refused") setStatus("refused", `${s.status} ${s.title}: ${s.detail}`);
}

function connect() {
  stream?.close();
  const subjects = filterSubjects();
  if (subjects.length === 0) return setStatus("refused", "Nothing to subscribe to: enter one or more subjects.");
  const params = new URLSearchParams();
  for (const s of subjects) params.append("subject", s);
  stream = openStream(`/v1/subscribe?${params}`, { headers: authHeaders(), onEvent, onStatus });
}

// Who is calling decides the default filter: everything its subscribe rules allow.
// A newer start (the token changed) wins over an older one still waiting for its answer.
let generation = 0;
async function start() {
  const mine = ++generation;
  stream?.close();
  const res = await fetch("/v1/me", { headers: authHeaders() }).catch(() => null);
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
  const res = await fetch(`/v1/publish/${encodeURIComponent(subject)}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authHeaders() },
    body,
  });
  const payload = await res.json().catch(() => ({}));
  if (res.ok) showResult(true, `${res.status} ${res.status === 201 ? "stored" : "published"}`, JSON.stringify(payload, null, 2));
  else showResult(false, `${res.status} ${payload.title ?? res.statusText}`, payload.detail ?? "", payload.errors ?? []);
}

async function loadSchemas() {
  const res = await fetch("/v1/schemas", { headers: authHeaders() }).catch(() => null);
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
  const res = await fetch("/v1/webhooks", { headers: authHeaders() }).catch(() => null);
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
    const r = await fetch(`/v1/webhooks/${encodeURIComponent(w.id)}/test`, { method: "POST", headers: authHeaders() });
    const out = await r.json().catch(() => ({}));
    detail.textContent = out.delivered ? `test delivered: HTTP ${out.status} in ${out.durationMs} ms` : `test failed: ${out.error ?? `HTTP ${out.status ?? r.status}`}`;
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
