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
import type { AttemptRecord } from "../../src/webhooks/journal.js";

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

/**
 * Label names and values each metric takes, from the recording API called the way the
 * gateway calls it: every status class, every webhook outcome, both transports.
 */
async function labelDomains(): Promise<Map<string, Map<string, Set<string>>>> {
  const metrics = new Metrics({ sseConnections: () => 0, wsConnections: () => 0, natsConnected: () => true, natsStalled: () => false, natsReconnects: () => 0, sessionMessages: () => 0, sessionBuffered: () => 0 });
  for (const status of [101, 200, 302, 404, 500]) metrics.request("/v1/publish/:subject", "POST", status, 0.001);
  for (const outcome of ["ok", 503] as const) for (const kind of ["core", "jetstream"] as const) metrics.publish(kind, outcome);
  for (const outcome of ["delivered", "retrying", "dead-lettered", "disabled"] satisfies AttemptRecord["outcome"][]) metrics.webhookAttempt(outcome, 1);
  for (const transport of ["sse", "ws"] as const) metrics.slowConsumer(transport);
  const domains = new Map<string, Map<string, Set<string>>>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const labels = new Map<string, Set<string>>();
    for (const name of ((metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? [])) labels.set(name, new Set());
    for (const v of m.values) for (const [k, val] of Object.entries(v.labels)) labels.get(k)?.add(String(val));
    domains.set(m.name, labels);
  }
  metrics.registry.clear();
  return domains;
}

/** `metric{label="v", other!~"x"}` selectors in a PromQL expression. */
function selectorsIn(expr: string): { metric: string; label: string; op: string; value: string }[] {
  return [...expr.matchAll(/\b(natsgate_[a-z0-9_]+)\{([^}]*)\}/g)].flatMap((m) =>
    [...m[2]!.matchAll(/([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((l) => ({ metric: m[1]!, label: l[1]!, op: l[2]!, value: l[3]! })),
  );
}

/** Every label a selector names exists on its metric; an exact match names a value the gateway records. */
function checkSelectors(where: string, expr: string, domains: Map<string, Map<string, Set<string>>>): void {
  for (const sel of selectorsIn(expr)) {
    const labels = domains.get(sel.metric.replace(/_(bucket|sum|count)$/, ""));
    expect(labels?.has(sel.label), `${where}: ${sel.metric} has no label ${sel.label}`).toBe(true);
    if (sel.op === "=" || sel.op === "!=") expect([...labels!.get(sel.label)!], `${where}: ${sel.metric}{${sel.label}} never is "${sel.value}"`).toContain(sel.value);
  }
  // `sum by (route, status)` groups by labels one of the expression's metrics has (or Prometheus adds).
  const own = metricsIn(expr).flatMap((m) => [...(domains.get(m.replace(/_(bucket|sum|count)$/, ""))?.keys() ?? [])]);
  for (const group of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
    for (const label of group[1]!.split(",").map((l) => l.trim())) {
      expect(["instance", "job", "le", ...own], `${where}: grouped by ${label}, which its metrics do not have`).toContain(label);
    }
  }
}

/** The metric names a PromQL expression reads (ours and Node's; functions and labels are not metrics). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:natsgate|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

describe("deploy/ telemetry: dashboards and alerts", () => {
  it("every alert rule is complete and reads only exported metrics, with labels and label values they have", async () => {
    const names = await exported();
    const domains = await labelDomains();
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
      checkSelectors(r.alert, r.expr, domains);
    }
    // The selectors are really checked: the failure ratio reads outcome!="delivered", the 5xx alert status="5xx".
    expect(rules.flatMap((r: { expr: string }) => selectorsIn(r.expr)).map((s: { label: string; value: string }) => `${s.label}=${s.value}`)).toEqual(["outcome=delivered", "status=5xx"]);
  });

  it("every dashboard panel queries only exported metrics and labels; the datasource is a variable", async () => {
    const names = await exported();
    const domains = await labelDomains();
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
      checkSelectors(title, expr, domains);
    }
    // Every natsgate metric is on the dashboard.
    const shown = new Set(targets.flatMap((t: { expr: string }) => metricsIn(t.expr)));
    for (const m of [...names].filter((n) => n.startsWith("natsgate_") && !/_(sum|count)$/.test(n) && !n.endsWith("_bucket"))) {
      const onDashboard = shown.has(m) || shown.has(`${m}_bucket`);
      expect(onDashboard, `${m} has no panel`).toBe(true);
    }
  });
});
