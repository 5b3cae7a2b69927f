// Events per second over the last minute, drawn on a canvas by hand (no chart library:
// the console has no build step and a bar chart is a few lines).

const SECONDS = 60;

/** A rolling per-second counter drawn as bars; `record()` counts one event now. */
export class RateChart {
  constructor(canvas, now = () => Date.now()) {
    this.canvas = canvas;
    this.now = now;
    this.counts = new Array(SECONDS).fill(0);
    this.second = Math.floor(now() / 1000);
    this.total = 0;
    this.timer = setInterval(() => this.draw(), 1000);
    this.draw();
  }

  #advance() {
    const second = Math.floor(this.now() / 1000);
    const steps = Math.min(SECONDS, second - this.second);
    for (let i = 0; i < steps; i++) {
      this.counts.shift();
      this.counts.push(0);
    }
    if (steps > 0) this.second = second;
  }

  record() {
    this.#advance();
    this.counts[SECONDS - 1]++;
    this.total++;
    // Drawing waits for the next tick; the count is current at once.
    this.canvas.dataset.total = String(this.total);
  }

  draw() {
    this.#advance();
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = c.clientWidth || 600;
    const height = c.clientHeight || 80;
    if (c.width !== width * ratio) c.width = width * ratio;
    if (c.height !== height * ratio) c.height = height * ratio;
    const g = c.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const max = Math.max(1, ...this.counts);
    const bar = width / SECONDS;
    const styles = getComputedStyle(c);
    g.fillStyle = styles.getPropertyValue("--accent").trim() || "#3fb6a8";
    this.counts.forEach((n, i) => {
      if (n === 0) return;
      const h = Math.max(2, (n / max) * (height - 16));
      g.fillRect(i * bar + 1, height - h, Math.max(1, bar - 2), h);
    });
    g.fillStyle = styles.getPropertyValue("--muted").trim() || "#8a99a8";
    g.font = "11px system-ui, sans-serif";
    g.fillText(`${this.counts[SECONDS - 1]}/s now · peak ${max}/s · ${this.total} total`, 4, 11);
    // For people using assistive technology, and for tests: the numbers the bars show.
    c.dataset.total = String(this.total);
    c.dataset.peak = String(Math.max(...this.counts));
    c.setAttribute("aria-label", `events per second over the last minute; peak ${c.dataset.peak}, ${this.total} in all`);
  }
}
