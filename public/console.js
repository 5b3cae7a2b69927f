// natsgate console: live events over SSE, a publish form, the schema list, webhook status.
// Plain browser JavaScript, served as is (no build step).
const $ = (id) => document.getElementById(id);
const MAX_EVENTS = 500;
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("natsgate.token") ?? "";
tokenInput.addEventListener("change", () => localStorage.setItem("natsgate.token", tokenInput.value));

const authHeaders = () => (tokenInput.value ? { authorization: `Bearer ${tokenInput.value}` } : {});

let source = null;
let lastEventId = "";
let retryTimer = null;

function setStatus(state, text) {
  const el = $("status");
  el.dataset.state = state;
  el.textContent = text;
}

function subscribeUrl() {
  const params = new URLSearchParams();
  for (const s of $("filter").value.split(/[\s,]+/).filter(Boolean)) params.append("subject", s);
  if (tokenInput.value) params.set("access_token", tokenInput.value);
  if (lastEventId) params.set("lastEventId", lastEventId);
  return `/v1/subscribe?${params}`;
}

function connect() {
  disconnect(false);
  const es = new EventSource(subscribeUrl());
  source = es;
  setStatus("connecting", "Connecting…");
  es.onopen = () => setStatus("live", `Live: ${$("filter").value}`);
  es.onmessage = (e) => {
    if (e.lastEventId) lastEventId = e.lastEventId;
    addEvent(JSON.parse(e.data));
  };
  // The gateway ends a stream on overflow, shutdown or token expiry; the browser reconnects with Last-Event-ID.
  for (const reason of ["overflow", "shutdown", "expired"]) {
    es.addEventListener(reason, () => setStatus("retrying", `Stream ended (${reason}); resuming…`));
  }
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // A non-stream answer (e.g. 503 while NATS reconnects) closes EventSource for good: retry ourselves.
      setStatus("retrying", "Disconnected; retrying…");
      retryTimer = setTimeout(connect, 2000);
    } else {
      setStatus("retrying", "Reconnecting…");
    }
  };
  $("connect").disabled = true;
  $("disconnect").disabled = false;
}

function disconnect(reset = true) {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
  if (reset) {
    lastEventId = "";
    setStatus("idle", "Not connected");
  }
  $("connect").disabled = false;
  $("disconnect").disabled = !reset ? false : true;
}

function addEvent(env) {
  const li = document.createElement("li");
  li.dataset.subject = env.subject;
  const meta = document.createElement("div");
  meta.className = "meta";
  const subject = document.createElement("span");
  subject.className = "subject";
  subject.textContent = env.subject;
  const time = document.createElement("time");
  time.textContent = new Date(env.time).toLocaleTimeString();
  meta.append(subject, time);
  if (env.stream) {
    const pos = document.createElement("span");
    pos.textContent = `${env.stream} #${env.seq}`;
    meta.append(pos);
  }
  const pre = document.createElement("pre");
  pre.textContent = typeof env.data === "string" ? env.data : JSON.stringify(env.data, null, 2);
  li.append(meta, pre);
  const list = $("events");
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function showResult(ok, title, detail, issues = []) {
  const box = $("result");
  box.hidden = false;
  box.dataset.ok = String(ok);
  box.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = title;
  box.append(strong);
  if (detail) {
    const pre = document.createElement("pre");
    pre.textContent = detail;
    box.append(pre);
  }
  if (issues.length) {
    const ul = document.createElement("ul");
    for (const i of issues) {
      const li = document.createElement("li");
      li.textContent = `${i.path || "/"}: ${i.message}`;
      ul.append(li);
    }
    box.append(ul);
  }
}

async function publish(event) {
  event.preventDefault();
  const subject = $("subject").value.trim();
  let body = $("body").value;
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
  const res = await fetch("/v1/schemas", { headers: authHeaders() });
  if (!res.ok) return;
  const { schemas } = await res.json();
  const list = $("schemas");
  list.replaceChildren();
  for (const s of schemas) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = s.subject;
    b.title = s.description ?? "";
    b.addEventListener("click", () => ($("subject").value = s.subject.replaceAll("*", "example").replace(/>$/, "example")));
    li.append(b);
    list.append(li);
  }
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
  const li = document.createElement("li");
  const id = Object.assign(document.createElement("span"), { className: "id", textContent: w.id });
  const state = Object.assign(document.createElement("span"), { className: "state", textContent: w.enabled ? "enabled" : "disabled" });
  state.dataset.enabled = String(w.enabled);
  const where = Object.assign(document.createElement("span"), { className: "where", textContent: `${w.subjects.join(" ")} → ${new URL(w.url).host} (${w.format})` });
  const test = Object.assign(document.createElement("button"), { type: "button", textContent: "Test" });
  const detail = Object.assign(document.createElement("span"), { className: "detail", textContent: w.disabledReason ?? "" });
  test.addEventListener("click", async () => {
    const r = await fetch(`/v1/webhooks/${encodeURIComponent(w.id)}/test`, { method: "POST", headers: authHeaders() });
    const out = await r.json().catch(() => ({}));
    detail.textContent = out.delivered ? `test delivered: HTTP ${out.status} in ${out.durationMs} ms` : `test failed: ${out.error ?? `HTTP ${out.status ?? r.status}`}`;
  });
  li.append(id, state, where, test, detail);
  return li;
}

$("subscribe-form").addEventListener("submit", (e) => (e.preventDefault(), connect()));
$("disconnect").addEventListener("click", () => disconnect());
$("publish-form").addEventListener("submit", publish);
tokenInput.addEventListener("change", loadSchemas);
tokenInput.addEventListener("change", loadWebhooks);
loadSchemas();
loadWebhooks();
setInterval(loadWebhooks, 10_000);
