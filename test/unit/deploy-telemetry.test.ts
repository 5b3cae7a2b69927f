/**
 * The Grafana dashboard and the Prometheus alert rules under deploy/ use only
 * metrics the gateway exports (issue 12, item 8): a renamed metric fails here,
 * not silently on someone's wall.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/telemetry/metrics.js";
import { collectProcessMetrics } from "../../src/node/process-metrics.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** Every series name the gateway exports: base names plus the _bucket/_sum/_count of histograms. */
async function exported(): Promise<Set<string>> {
  const metrics = new Metrics({ sseConnections: () => 0, wsConnections: () => 0, natsConnected: () => true, natsStalled: () => false, natsReconnects: () => 0, sessionMessages: () => 0, sessionBuffered: () => 0 });
  collectProcessMetrics(metrics.registry);
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === "histogram" || String(m.type) === "summary") for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
  }
  metrics.registry.clear();
  return names;
}

/** The metric names a PromQL expression reads (ours and Node's; functions and labels are not metrics). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:natsgate|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

describe("deploy/ telemetry: dashboards and alerts", () => {
  it("every alert rule is complete and reads only exported metrics", async () => {
    const names = await exported();
    const rules = parse(read("deploy/prometheus/natsgate-alerts.yaml")).groups.flatMap((g: { rules: unknown[] }) => g.rules);
    expect(rules.map((r: { alert: string }) => r.alert)).toEqual([
      "NatsgateNatsDisconnected",
      "NatsgateNatsReconnecting",
      "NatsgateDeadLettersGrowing",
      "NatsgateWebhookFailureRatio",
      "NatsgateSlowConsumers",
      "NatsgateServerErrors",
      "NatsgateEventLoopLag",
    ]);
    for (const r of rules) {
      expect(r, r.alert).toMatchObject({ expr: expect.any(String), labels: { severity: expect.stringMatching(/^(critical|warning|info)$/) }, annotations: { summary: expect.any(String), description: expect.any(String) } });
      const used = metricsIn(r.expr);
      expect(used.length, r.alert).toBeGreaterThan(0);
      for (const m of used) expect(names.has(m), `${r.alert} uses ${m}`).toBe(true);
    }
  });

  it("every dashboard panel queries only exported metrics; the datasource is a variable", async () => {
    const names = await exported();
    const dashboard = JSON.parse(read("deploy/grafana/natsgate-dashboard.json"));
    expect(dashboard.uid).toBe("natsgate");
    const targets = dashboard.panels.flatMap((p: { title: string; datasource: { uid: string }; targets: { expr: string }[] }) => {
      expect(p.datasource.uid, p.title).toBe("${datasource}");
      return p.targets.map((t) => ({ title: p.title, expr: t.expr }));
    });
    expect(targets.length).toBeGreaterThanOrEqual(12);
    for (const { title, expr } of targets) {
      const used = metricsIn(expr);
      expect(used.length, title).toBeGreaterThan(0);
      for (const m of used) expect(names.has(m), `${title} uses ${m}`).toBe(true);
    }
    // Every natsgate metric is on the dashboard.
    const shown = new Set(targets.flatMap((t: { expr: string }) => metricsIn(t.expr)));
    for (const m of [...names].filter((n) => n.startsWith("natsgate_") && !/_(sum|count)$/.test(n) && !n.endsWith("_bucket"))) {
      const onDashboard = shown.has(m) || shown.has(`${m}_bucket`);
      expect(onDashboard, `${m} has no panel`).toBe(true);
    }
  });
});
