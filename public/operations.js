// The operations panel: what this replica is doing, from GET /v1/stats (the numbers /metrics
// exports). Polled every 2 s while the page is visible; publishes/s is the change of the
// publish counters between two polls, so it needs the second answer before it shows.

const POLL_MS = 2000;

/** Number formatting for counters: 12,345 rather than 12345. */
const count = (n) => Math.round(n).toLocaleString("en-US");

/** Keeps the panel's <dd> elements (by data-stat) current; `fetchStats` returns a Response. */
export class OperationsPanel {
  constructor(root, fetchStats, now = () => Date.now()) {
    this.root = root;
    this.fetchStats = fetchStats;
    this.now = now;
    this.last = null;
    this.timer = setInterval(() => !document.hidden && this.refresh(), POLL_MS);
  }

  #set(stat, text, state) {
    const el = this.root.querySelector(`[data-stat="${stat}"]`);
    el.textContent = text;
    if (state) el.dataset.state = state;
    else delete el.dataset.state;
  }

  async refresh() {
    const note = this.root.querySelector(".note");
    const res = await this.fetchStats().catch(() => null);
    if (!res || !res.ok) {
      this.last = null;
      note.textContent = !res
        ? "Gateway unreachable."
        : res.status === 401 || res.status === 403
          ? "Operations need an admin token or the metrics token."
          : `Operations unavailable (HTTP ${res.status}).`;
      this.root.dataset.state = "unavailable";
      return;
    }
    const s = await res.json();
    const at = this.now();
    note.textContent = "";
    this.root.dataset.state = "ok";
    this.#set("nats", s.nats.reconnects ? `${s.nats.state} (${count(s.nats.reconnects)} reconnects)` : s.nats.state, s.nats.state);
    const published = s.publishes.ok + s.publishes.failed;
    if (this.last && at > this.last.at) {
      // A counter that went down means the gateway restarted: start over rather than go negative.
      const delta = published - this.last.published;
      this.#set("rate", delta >= 0 ? (delta / ((at - this.last.at) / 1000)).toFixed(1) : "–");
    }
    this.last = { at, published };
    this.#set("publishes", `${count(s.publishes.ok)} ok · ${count(s.publishes.failed)} failed`, s.publishes.failed ? "warn" : undefined);
    this.#set("streams", `${count(s.streams.sse)} SSE · ${count(s.streams.ws)} WebSocket`);
    const failures = s.webhooks.retrying + s.webhooks.deadLettered + s.webhooks.disabled;
    this.#set("deliveries", `${count(s.webhooks.delivered)} delivered · ${count(failures)} failed`, failures ? "warn" : undefined);
    this.#set("dead-letters", count(s.webhooks.deadLettered), s.webhooks.deadLettered ? "bad" : undefined);
  }
}
