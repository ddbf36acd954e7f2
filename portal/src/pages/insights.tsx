// Insights (issue 20 §3, cpaas.txt §2.2.3): the tenant's calls, messages and flow steps as
// real-time (per minute), hourly and daily figures, filtered by location (site), time range and
// party; charts (ui/chart.tsx), the top sites and parties, the export of the dashboards and a CSV
// report (§2.3.8), and alert rules. docs/insights.md.
import { useMemo, useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { api, fetchBlob, ok } from "../api/client";
import { ChartView } from "../ui/chart";
import { Badge, Card, ErrorNotice, Field, Form, Notice, Page, Select, useForm, useLoad } from "../ui/kit";

const CALLS = ["calls.started", "calls.answered", "calls.unanswered", "calls.ended"];
const MESSAGES = ["messages.sent", "messages.delivered", "messages.undelivered", "messages.failed", "messages.received"];
const FLOWS = ["flow.steps", "flow.steps.failed"];
const COLORS = ["#1c7ed6", "#2f9e44", "#e8590c", "#7048e8", "#c2255c"];
// Range presets per tier, in hours (a tier's range is bounded by what it keeps: 3, 14, 90 days).
const RANGES: Record<string, [string, string][]> = {
  minute: [["1", "last hour"], ["6", "last 6 hours"], ["24", "last 24 hours"]],
  hour: [["24", "last 24 hours"], ["72", "last 3 days"], ["168", "last 7 days"], ["336", "last 14 days"]],
  day: [["168", "last 7 days"], ["720", "last 30 days"], ["2160", "last 90 days"]],
};

type Point = { t: string; count: number; total: number };
type Filters = { tier: string; hours: string; site: string; party: string };

function label(t: string, tier: string): string {
  const d = new Date(t);
  if (tier === "day") return d.toISOString().slice(0, 10);
  return d.toISOString().slice(tier === "hour" ? 5 : 11, 16).replace("T", " ");
}

function seriesChart(series: Record<string, Point[]>, metrics: string[], tier: string, kind: "line" | "bar") {
  const times = Array.from(new Set(metrics.flatMap((m) => (series[m] ?? []).map((p) => p.t)))).sort();
  return {
    type: kind,
    data: {
      labels: times.map((t) => label(t, tier)),
      datasets: metrics.map((m, i) => {
        const at = new Map((series[m] ?? []).map((p) => [p.t, p.count]));
        return {
          label: m,
          data: times.map((t) => at.get(t) ?? 0),
          borderColor: COLORS[i % COLORS.length],
          backgroundColor: kind === "bar" ? COLORS[i % COLORS.length] : "transparent",
          tension: 0.3,
        };
      }),
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  };
}

async function download(url: string, name: string) {
  const blob = await fetchBlob(url);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function Dashboard(props: { tenant: string; filters: Filters }) {
  const { tenant, filters } = props;
  const query = useMemo(() => {
    const end = new Date();
    const start = new Date(end.getTime() - Number(filters.hours) * 3600_000);
    return {
      tier: filters.tier,
      start: start.toISOString(),
      end: end.toISOString(),
      ...(filters.site ? { site: filters.site } : {}),
      ...(filters.party ? { party: filters.party.trim() } : {}),
    };
  }, [filters]);
  const d = useLoad(
    () => ok(api.GET("/api/v1/tenants/{tenant_id}/insights/dashboard", { params: { path: { tenant_id: tenant }, query } })),
    [tenant, query],
  );
  const calls = useMemo(() => (d.data ? seriesChart(d.data.series as Record<string, Point[]>, CALLS.slice(0, 3), filters.tier, "line") : null), [d.data]);
  const messages = useMemo(() => (d.data ? seriesChart(d.data.series as Record<string, Point[]>, MESSAGES, filters.tier, "bar") : null), [d.data]);
  const flows = useMemo(() => (d.data ? seriesChart(d.data.series as Record<string, Point[]>, FLOWS, filters.tier, "line") : null), [d.data]);
  if (d.error) return <ErrorNotice error={d.error} />;
  if (!d.data) return <p class="muted">Loading…</p>;
  const totals = d.data.totals as Record<string, { count: number; total: number }>;
  const n = (m: string) => totals[m]?.count ?? 0;
  const talk = totals["calls.ended"]?.total ?? 0;
  return (
    <div data-testid="insights-dashboard">
      <div class="stats" data-testid="insights-totals">
        <div class="stat"><span class="value" data-testid="total-calls.started">{n("calls.started")}</span><span class="label">calls</span></div>
        <div class="stat"><span class="value" data-testid="total-calls.answered">{n("calls.answered")}</span><span class="label">answered</span></div>
        <div class="stat"><span class="value" data-testid="total-calls.unanswered">{n("calls.unanswered")}</span><span class="label">not answered</span></div>
        <div class="stat"><span class="value" data-testid="total-talk">{Math.round(talk / 60000)}</span><span class="label">minutes of calls</span></div>
        <div class="stat"><span class="value" data-testid="total-messages.delivered">{n("messages.delivered")}</span><span class="label">messages delivered</span></div>
        <div class="stat"><span class="value" data-testid="total-messages.received">{n("messages.received")}</span><span class="label">messages received</span></div>
        <div class="stat"><span class="value" data-testid="total-messages.undelivered">{n("messages.undelivered") + n("messages.failed")}</span><span class="label">messages not delivered</span></div>
        <div class="stat"><span class="value" data-testid="total-flow.steps">{n("flow.steps")}</span><span class="label">flow steps</span></div>
      </div>
      <Card title="Calls">{calls && <ChartView config={calls as any} height={200} testid="chart-calls" />}</Card>
      <Card title="Messages">{messages && <ChartView config={messages as any} height={200} testid="chart-messages" />}</Card>
      <Card title="Flow steps">{flows && <ChartView config={flows as any} height={160} testid="chart-flows" />}</Card>
      <div class="stats" style={{ gridTemplateColumns: "1fr 1fr" }}>
        <Card title="By location">
          <table data-testid="insights-sites">
            <tbody>
              {d.data.sites.map((s: any) => (
                <tr><td>{s.name}</td><td class="num">{s.count}</td></tr>
              ))}
            </tbody>
          </table>
          {d.data.sites.length === 0 && <p class="muted">Nothing in this range.</p>}
        </Card>
        <Card title="Top parties">
          <table data-testid="insights-parties">
            <tbody>
              {d.data.parties.map((p: any) => (
                <tr><td>{p.party}</td><td class="num">{p.count}</td></tr>
              ))}
            </tbody>
          </table>
          {d.data.parties.length === 0 && <p class="muted">Nothing in this range.</p>}
        </Card>
      </div>
      <p class="muted small">
        {filters.tier === "minute" ? "Real-time (per minute, kept 3 days)" : filters.tier === "hour" ? "Hourly (kept 14 days)" : "Daily (kept 90 days)"} ·
        times in UTC
      </p>
    </div>
  );
}

function Alerts(props: { tenant: string }) {
  const tenant = props.tenant;
  const [n, setN] = useState(0);
  const rules = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/insights/alerts", { params: { path: { tenant_id: tenant }, query: { limit: 100 } } })), [tenant, n]);
  const users = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/users", { params: { path: { tenant_id: tenant }, query: { limit: 200 } } })), [tenant]);
  const form = useForm({ name: "", metric: "calls.unanswered", op: ">", threshold: "10", window_minutes: "15", notify_user_id: "", notify_webhook: false });
  return (
    <Card title="Alert rules">
      <ErrorNotice error={rules.error} />
      <table data-testid="insights-rules">
        <tbody>
          {rules.data?.items.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td>{r.kind === "threshold" ? `${r.metric} ${r.op} ${r.threshold} in ${r.window_minutes} min` : `${r.field} of ${r.event_type} changes`}</td>
              <td>{r.firing ? <Badge tone="bad">firing</Badge> : <Badge tone="ok">quiet</Badge>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.data?.items.length === 0 && <Notice>No alert rules yet.</Notice>}
      <Form
        form={form}
        testid="insights-rule-form"
        submit="Add rule"
        onSubmit={() =>
          form.submit(async (v) => {
            await ok(
              api.POST("/api/v1/tenants/{tenant_id}/insights/alerts", {
                params: { path: { tenant_id: tenant } },
                body: {
                  name: v.name,
                  kind: "threshold",
                  metric: v.metric,
                  op: v.op as ">",
                  threshold: Number(v.threshold) as any,
                  window_minutes: Number(v.window_minutes),
                  notify_user_ids: v.notify_user_id ? [v.notify_user_id] : [],
                  notify_webhook: !!v.notify_webhook,
                },
              }),
            );
            setN((x) => x + 1);
            return "Rule added.";
          })
        }
      >
        <Field form={form} name="name" label="Name" required />
        <Select form={form} name="metric" label="Figure" options={[...CALLS, ...MESSAGES, ...FLOWS].map((m) => [m, m])} />
        <Select form={form} name="op" label="Crosses" options={[[">", "above"], [">=", "at or above"], ["<", "below"], ["<=", "at or below"]]} />
        <Field form={form} name="threshold" label="Threshold" type="number" />
        <Field form={form} name="window_minutes" label="Over the last (minutes)" type="number" />
        <Select form={form} name="notify_user_id" label="E-mail" options={[["", "nobody"], ...((users.data?.items ?? []).filter((u) => u.email).map((u) => [u.id, `${u.name} <${u.email}>`]) as [string, string][])]} />
        <Field form={form} name="notify_webhook" label="Also the tenant's webhooks (insights.alert)" type="checkbox" />
      </Form>
    </Card>
  );
}

function Insights({ params }: PageProps) {
  const tenant = params.tenant;
  const sites = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/sites", { params: { path: { tenant_id: tenant }, query: { limit: 200 } } })), [tenant]);
  const form = useForm<Filters>({ tier: "hour", hours: "24", site: "", party: "" });
  const [applied, setApplied] = useState<Filters>(form.values);
  const [err, setErr] = useState<unknown>(null);
  const tier = form.values.tier;
  const ranges = RANGES[tier];
  if (!ranges.some(([h]) => h === form.values.hours)) form.set("hours", ranges[0][0]);
  return (
    <Page
      title="Insights"
      subtitle="Calls, messages and flow steps — real-time, hourly and daily"
      actions={
        <>
          <button class="ghost" data-testid="export-json" onClick={() => download(`/api/v1/tenants/${tenant}/insights/export`, "insights.json").catch(setErr)}>
            Export dashboards (JSON)
          </button>
          <button
            class="ghost"
            data-testid="export-csv"
            onClick={() => download(`/api/v1/tenants/${tenant}/insights/report.csv?tier=${applied.tier}${applied.site ? `&site=${applied.site}` : ""}${applied.party ? `&party=${encodeURIComponent(applied.party)}` : ""}`, `insights-${applied.tier}.csv`).catch(setErr)}
          >
            Report (CSV)
          </button>
        </>
      }
    >
      <ErrorNotice error={err ?? sites.error} />
      <div data-testid="insights-filters">
        <Form form={form} submit="Apply" onSubmit={() => setApplied({ ...form.values })} testid="insights-filter-form">
          <Select form={form} name="tier" label="Resolution" options={[["minute", "per minute (real-time)"], ["hour", "per hour"], ["day", "per day"]]} />
          <Select form={form} name="hours" label="Time range" options={ranges} />
          <Select form={form} name="site" label="Location" options={[["", "all locations"], ...((sites.data?.items ?? []).map((s) => [s.id, s.name]) as [string, string][])]} />
          <Field form={form} name="party" label="Party" placeholder="+16175550100 or 1001" hint="caller or callee, sender or recipient" />
        </Form>
      </div>
      <Dashboard tenant={tenant} filters={applied} />
      <Alerts tenant={tenant} />
    </Page>
  );
}

export const insightsRoute: RouteDef = { path: "/t/:tenant/insights", title: "Insights", page: Insights };
