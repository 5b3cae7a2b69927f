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
    this.busy = false;
    this.stopped = false;
    this.timer = setInterval(() => !document.hidden && this.refresh(), POLL_MS);
  }

  #set(stat, text, state) {
    const el = this.root.querySelector(`[data-stat="${stat}"]`);
    el.textContent = text;
    if (state) el.dataset.state = state;
    else delete el.dataset.state;
  }

  /** Polls again (after a token change): a 401 or 403 stops polling until then. */
  resume() {
    this.stopped = false;
    return this.refresh();
  }

  async refresh() {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      await this.#refresh();
    } finally {
      this.busy = false;
    }
  }

  async #refresh() {
    let res;
    try {
      res = await this.fetchStats();
      if (!res.ok) {
        // The answer will not change until the token does: stop asking (and spending its rate limit).
        if (res.status === 401 || res.status === 403) this.stopped = true;
        return this.#unavailable(this.stopped ? "Operations need an admin token or the metrics token." : `Operations unavailable (HTTP ${res.status}).`);
      }
      this.#show(await res.json());
    } catch {
      this.#unavailable(res ? "Operations unavailable (unexpected answer)." : "Gateway unreachable.");
    }
  }

  // Old numbers must not pass for current ones: every value goes back to "…".
  #unavailable(text) {
    this.last = null;
    this.root.querySelector(".note").textContent = text;
    this.root.dataset.state = "unavailable";
    for (const el of this.root.querySelectorAll("[data-stat]")) {
      el.textContent = "…";
      delete el.dataset.state;
    }
  }

  #show(s) {
    const at = this.now();
    const published = s.publishes.ok + s.publishes.failed;
    const failures = s.webhooks.retrying + s.webhooks.deadLettered + s.webhooks.disabled;
    if (!Number.isFinite(published) || !Number.isFinite(failures) || typeof s.nats.state !== "string") throw new Error("unexpected stats");
    this.root.querySelector(".note").textContent = "";
    this.root.dataset.state = "ok";
    this.#set("nats", s.nats.reconnects ? `${s.nats.state} (${count(s.nats.reconnects)} reconnects)` : s.nats.state, s.nats.state);
    // A counter that went down means the gateway restarted (or another replica answered): start over.
    const delta = this.last ? published - this.last.published : -1;
    this.#set("rate", delta >= 0 && at > this.last.at ? (delta / ((at - this.last.at) / 1000)).toFixed(1) : "–");
    this.last = { at, published };
    this.#set("publishes", `${count(s.publishes.ok)} ok · ${count(s.publishes.failed)} failed`, s.publishes.failed ? "warn" : undefined);
    this.#set("streams", `${count(s.streams.sse)} SSE · ${count(s.streams.ws)} WebSocket`);
    this.#set("deliveries", `${count(s.webhooks.delivered)} delivered · ${count(failures)} failed attempts`, failures ? "warn" : undefined);
    this.#set("dead-letters", count(s.webhooks.deadLettered), s.webhooks.deadLettered ? "bad" : undefined);
  }
}
