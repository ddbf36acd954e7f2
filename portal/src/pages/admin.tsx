// The office administrator's portal (and the operator's view of one tenant): users and their
// phones, devices, hunt groups, queues with live figures, auto attendants, 911 locations, call
// records, recordings, invoices and usage.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { tenantAuditRoute } from "./account";
import { numbersRoute } from "./numbers";
import { insightsRoute } from "./insights";
import { api, fetchBlob, ok } from "../api/client";
import type { components } from "../api/schema";
import { ChartView } from "../ui/chart";
import {
  Badge, Card, ErrorNotice, Field, Form, Link, Notice, Page, PagedTable, Select, fmt, useForm, useLoad, usePoll,
} from "../ui/kit";
import { InvoiceTable } from "./operator";
import { AttendantEditor } from "./attendants";
import { FairUse } from "./fairuse";

type S = components["schemas"];
const path = (tenant_id: string) => ({ path: { tenant_id } });

function useUsers(tenant: string, deps: unknown[] = []) {
  return useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/users", { params: { ...path(tenant), query: { limit: 200 } } })), [tenant, ...deps]);
}

/** A tenant page whose tenant the API does not show this caller: not found, and nothing else. */
function TenantGate(props: { tenant: string; children: any }) {
  const t = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/users", { params: { ...path(props.tenant), query: { limit: 1 } } })), [props.tenant]);
  if (t.error) return <Page title="Not found"><ErrorNotice error={t.error} /></Page>;
  if (!t.data) return <p class="muted">Loading…</p>;
  return props.children;
}

function Users({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const form = useForm({ name: "", extension: "", email: "", sip_username: "", password: "", mac_address: "" });
  return (
    <TenantGate tenant={tenant}>
      <Page title="Users" subtitle="People, their extensions and their phones">
        <div class="two">
          <Card title="Users">
            <PagedTable<S["UserOut"]>
              testid="users"
              deps={[n]}
              load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/users", { params: { ...path(tenant), query: { limit, offset } } }))}
              columns={[
                { title: "Ext.", cell: (u) => <strong>{u.extension}</strong> },
                { title: "Name", cell: (u) => u.name },
                { title: "E-mail", cell: (u) => u.email ?? "—" },
                { title: "Forwarding", cell: (u) => (u.do_not_disturb ? <Badge tone="warn">DND</Badge> : u.forward_always ? `→ ${u.forward_always}` : "—") },
              ]}
            />
          </Card>
          <Card title="Add a user with a phone">
            <Form
              form={form}
              submit="Add user"
              testid="user-form"
              onSubmit={() =>
                form.submit(async (v) => {
                  const u = await ok(api.POST("/api/v1/tenants/{tenant_id}/users", { params: path(tenant), body: { name: v.name, extension: v.extension, email: v.email || null, directory_listed: true } }));
                  setN(n + 1);
                  if (!v.sip_username) return <>User <strong>{u.name}</strong> added at {u.extension}.</>;
                  try {
                    const d = await ok(
                      api.POST("/api/v1/tenants/{tenant_id}/devices", {
                        params: path(tenant),
                        body: { sip_username: v.sip_username, password: v.password || null, mac_address: v.mac_address || null, user_id: u.id },
                      }),
                    );
                    return (
                      <span data-testid="device-created">
                        User <strong>{u.name}</strong> added at {u.extension} with phone <code>{d.sip_username}@{d.sip_domain}</code>, SIP password <code>{d.sip_password}</code>.
                      </span>
                    );
                  } catch (e) {
                    throw Object.assign(e as Error, { message: `User added, but not the phone: ${(e as Error).message}` });
                  }
                })
              }
            >
              <Field form={form} name="name" label="Name" required />
              <Field form={form} name="extension" label="Extension" placeholder="1010" required />
              <Field form={form} name="email" label="E-mail" type="email" />
              <Field form={form} name="sip_username" label="Phone: SIP user name" hint="Leave empty to add the user without a phone." />
              <Field form={form} name="password" label="Phone: SIP password" type="password" hint="Empty: one is generated." />
              <Field form={form} name="mac_address" label="Phone: MAC address" placeholder="00:04:f2:aa:bb:cc" hint="For zero-touch provisioning." />
            </Form>
          </Card>
        </div>
      </Page>
    </TenantGate>
  );
}

function Devices({ params }: PageProps) {
  const tenant = params.tenant;
  const users = useUsers(tenant);
  const who = (id: string | null) => users.data?.items.find((u) => u.id === id);
  return (
    <TenantGate tenant={tenant}>
      <Page title="Devices" subtitle="Desk phones, softphones and adapters">
        <Card>
          <PagedTable<S["DeviceOut"]>
            deps={[users.data]}
            load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/devices", { params: { ...path(tenant), query: { limit, offset } } }))}
            columns={[
              { title: "SIP user", cell: (d) => <code>{d.sip_username}</code> },
              { title: "User", cell: (d) => (who(d.user_id) ? `${who(d.user_id)!.name} (${who(d.user_id)!.extension})` : "—") },
              { title: "MAC", cell: (d) => d.mac_address ?? "—" },
              { title: "Description", cell: (d) => d.description ?? "—" },
              { title: "State", cell: (d) => <Badge tone={d.enabled ? "ok" : "warn"}>{d.enabled ? "enabled" : "disabled"}</Badge> },
            ]}
          />
        </Card>
      </Page>
    </TenantGate>
  );
}

const STRATEGIES: [S["HuntStrategy"], string][] = [["simultaneous", "Ring all"], ["sequential", "In order"], ["round_robin", "Round robin"], ["longest_idle", "Longest idle"]];

function HuntGroups({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const users = useUsers(tenant, [n]);
  const form = useForm({ name: "", extension: "", strategy: "simultaneous" as S["HuntStrategy"], member_ids: [] as string[] });
  const name = (id: string) => users.data?.items.find((u) => u.id === id)?.extension ?? id.slice(0, 6);
  return (
    <TenantGate tenant={tenant}>
      <Page title="Hunt groups" subtitle="One number that rings several people">
        <div class="two">
          <Card title="Hunt groups">
            <PagedTable<S["HuntGroupOut"]>
              testid="hunt-groups"
              deps={[n, users.data]}
              load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/hunt-groups", { params: { ...path(tenant), query: { limit, offset } } }))}
              columns={[
                { title: "Ext.", cell: (g) => <strong>{g.extension}</strong> },
                { title: "Name", cell: (g) => g.name },
                { title: "Strategy", cell: (g) => g.strategy.replace("_", " ") },
                { title: "Members", cell: (g) => g.member_ids.map(name).join(", ") || "—" },
                { title: "Ring", cell: (g) => `${g.ring_seconds} s` },
              ]}
            />
          </Card>
          <Card title="New hunt group">
            <Form
              form={form}
              submit="Create hunt group"
              testid="hunt-form"
              onSubmit={() =>
                form.submit(async (v) => {
                  const g = await ok(api.POST("/api/v1/tenants/{tenant_id}/hunt-groups", { params: path(tenant), body: v }));
                  setN(n + 1);
                  return <>Hunt group <strong>{g.name}</strong> at {g.extension}.</>;
                })
              }
            >
              <Field form={form} name="name" label="Name" required />
              <Field form={form} name="extension" label="Extension" required />
              <Select form={form} name="strategy" label="Strategy" options={STRATEGIES} />
              <Select form={form} name="member_ids" label="Members" multiple options={(users.data?.items ?? []).map((u) => [u.id, `${u.extension} ${u.name}`])} />
            </Form>
          </Card>
        </div>
      </Page>
    </TenantGate>
  );
}

function QueueLive(props: { tenant: string; queue: S["QueueOut"] }) {
  const [live, setLive] = useState<S["LiveOut"] | null>(null);
  const [history, setHistory] = useState<{ t: string; waiting: number; agents: number }[]>([]);
  const [err, setErr] = useState<unknown>(null);
  const [today, setToday] = useState<S["PeriodOut"] | null>(null);
  usePoll(() => {
    const from = new Date();
    from.setUTCHours(0, 0, 0, 0);
    ok(api.GET("/api/v1/tenants/{tenant_id}/queues/{queue_id}/stats", { params: { path: { tenant_id: props.tenant, queue_id: props.queue.id }, query: { from: from.toISOString() } } })).then(setToday, setErr);
  }, 30000, [props.queue.id]);
  usePoll(() => {
    ok(api.GET("/api/v1/tenants/{tenant_id}/queues/{queue_id}/stats/live", { params: { path: { tenant_id: props.tenant, queue_id: props.queue.id } } })).then(
      (l) => {
        setErr(null);
        setLive(l);
        setHistory((h) => [...h.slice(-29), { t: new Date(l.at).toLocaleTimeString(), waiting: l.waiting, agents: l.agents_logged_in }]);
      },
      setErr,
    );
  }, 2000, [props.queue.id]);
  const config = useMemo(
    () => ({
      type: "line" as const,
      data: {
        labels: history.map((h) => h.t),
        datasets: [
          { label: "Waiting", data: history.map((h) => h.waiting), borderColor: "#e8590c", backgroundColor: "rgba(232,89,12,.12)", fill: true, tension: 0.3 },
          { label: "Agents logged in", data: history.map((h) => h.agents), borderColor: "#1c7ed6", tension: 0.3 },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    [history],
  );
  return (
    <Card title={`${props.queue.name} · ${props.queue.extension}`} class="queue">
      <ErrorNotice error={err} />
      <div class="stats" data-testid={`queue-live-${props.queue.extension}`}>
        <div class="stat"><span class="value" data-testid="waiting">{live?.waiting ?? "…"}</span><span class="label">waiting</span></div>
        <div class="stat"><span class="value" data-testid="agents">{live?.agents_logged_in ?? "…"}</span><span class="label">agents logged in</span></div>
        <div class="stat"><span class="value" data-testid="longest">{live ? fmt.secs(live.longest_wait_ms) : "…"}</span><span class="label">longest wait</span></div>
        <div class="stat"><span class="value">{props.queue.member_ids.length}</span><span class="label">members</span></div>
      </div>
      <p class="muted small">Live, refreshed every 2 s{live ? ` · as of ${new Date(live.at).toLocaleTimeString()}` : ""}</p>
      {today && (
        <p class="small" data-testid="queue-today">
          Today: <strong>{today.offered}</strong> offered · <strong>{today.answered}</strong> answered · <strong>{today.abandoned}</strong> abandoned ·
          service level {today.service_level_pct == null ? "—" : `${today.service_level_pct.toFixed(0)} %`} in {today.service_level_s} s ·
          average wait {fmt.secs(today.average_wait_ms)}
        </p>
      )}
      <ChartView config={config} height={160} />
    </Card>
  );
}

function Queues({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const users = useUsers(tenant);
  const queues = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/queues", { params: { ...path(tenant), query: { limit: 50 } } })), [tenant, n]);
  const form = useForm({ name: "", extension: "", member_ids: [] as string[] });
  if (queues.error) return <Page title="Not found"><ErrorNotice error={queues.error} /></Page>;
  return (
    <Page title="Call queues" subtitle="Callers waiting for the next free agent — live">
      <div class="queues">
        {queues.data?.items.map((q) => <QueueLive key={q.id} tenant={tenant} queue={q} />)}
        {queues.data?.items.length === 0 && <Notice>No queues yet.</Notice>}
      </div>
      <Card title="New queue">
        <Form
          form={form}
          submit="Create queue"
          onSubmit={() =>
            form.submit(async (v) => {
              await ok(api.POST("/api/v1/tenants/{tenant_id}/queues", { params: path(tenant), body: v }));
              setN(n + 1);
              return "Queue created.";
            })
          }
        >
          <Field form={form} name="name" label="Name" required />
          <Field form={form} name="extension" label="Extension" required />
          <Select form={form} name="member_ids" label="Agents" multiple options={(users.data?.items ?? []).map((u) => [u.id, `${u.extension} ${u.name}`])} />
        </Form>
      </Card>
    </Page>
  );
}

function Attendants({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const form = useForm({ name: "", extension: "", greeting_text: "", operator_extension: "" });
  return (
    <TenantGate tenant={tenant}>
      <Page title="Auto attendants" subtitle="Menus that answer and direct callers">
        <div class="two">
          <Card title="Menus">
            <PagedTable<S["MenuOut"]>
              deps={[n]}
              load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/attendants", { params: { ...path(tenant), query: { limit, offset } } }))}
              columns={[
                { title: "Name", cell: (m) => <Link href={`/t/${tenant}/attendants/${m.id}`} testid={`menu-${m.name}`}>{m.name}</Link> },
                { title: "Ext.", cell: (m) => m.extension ?? "—" },
                { title: "Options", cell: (m) => (m.options as { digit: string; action: string; target?: string | null }[]).map((o) => `${o.digit}→${o.target ?? o.action}`).join(" · ") || "—" },
                { title: "Schedule", cell: (m) => (m.schedule ? "business hours" : "always") },
                { title: "Greeting", cell: (m) => m.greeting_text ?? (m.greeting_path ? "recorded" : "—") },
              ]}
            />
          </Card>
          <Card title="New menu">
            <Form
              form={form}
              submit="Create menu"
              onSubmit={() =>
                form.submit(async (v) => {
                  await ok(api.POST("/api/v1/tenants/{tenant_id}/attendants", { params: path(tenant), body: { name: v.name, extension: v.extension || null, greeting_text: v.greeting_text || null, operator_extension: v.operator_extension || null } }));
                  setN(n + 1);
                  return "Menu created. Open it to add its options and business hours.";
                })
              }
            >
              <Field form={form} name="name" label="Name" required />
              <Field form={form} name="extension" label="Extension" />
              <Field form={form} name="greeting_text" label="Greeting (spoken)" placeholder="Thank you for calling…" />
              <Field form={form} name="operator_extension" label="Operator extension" hint="where 0 and a time-out go" />
            </Form>
          </Card>
        </div>
      </Page>
    </TenantGate>
  );
}

function E911({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const users = useUsers(tenant);
  const form = useForm({ user_id: "", house_number: "", street: "", city: "", state: "", postal_code: "", floor: "", room: "" });
  return (
    <TenantGate tenant={tenant}>
      <Page title="911 locations" subtitle="Where each person is, for emergency services">
        <div class="two">
          <Card title="Registered locations">
            <PagedTable<S["LocationOut"]>
              deps={[n]}
              load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/e911/locations", { params: { ...path(tenant), query: { limit, offset } } }))}
              columns={[
                { title: "For", cell: (l) => `${l.subject_type} ${users.data?.items.find((u) => u.id === l.subject_id)?.extension ?? ""}` },
                { title: "Address", cell: (l) => `${l.house_number} ${l.street}, ${l.city} ${l.state} ${l.postal_code}` },
                { title: "Floor/room", cell: (l) => [l.floor, l.room].filter(Boolean).join(" / ") || "—" },
                { title: "PSAP", cell: (l) => l.psap || "—" },
                { title: "Validated", cell: (l) => <Badge tone={l.validated ? "ok" : "warn"}>{l.validated ? "yes" : "no"}</Badge> },
              ]}
            />
          </Card>
          <Card title="Set a user's location">
            <Form
              form={form}
              submit="Save location"
              onSubmit={() =>
                form.submit(async ({ user_id, ...civic }) => {
                  await ok(api.PUT("/api/v1/tenants/{tenant_id}/e911/locations/users/{user_id}", { params: { path: { tenant_id: tenant, user_id } }, body: civic }));
                  setN(n + 1);
                  return "Location saved.";
                })
              }
            >
              <Select form={form} name="user_id" label="User" options={[["", "Choose…"], ...(users.data?.items ?? []).map((u): [string, string] => [u.id, `${u.extension} ${u.name}`])]} />
              <Field form={form} name="house_number" label="House number" />
              <Field form={form} name="street" label="Street" />
              <Field form={form} name="city" label="City" />
              <Field form={form} name="state" label="State" />
              <Field form={form} name="postal_code" label="Postal code" />
              <Field form={form} name="floor" label="Floor" />
              <Field form={form} name="room" label="Room" />
            </Form>
          </Card>
        </div>
      </Page>
    </TenantGate>
  );
}

export function CallTable(props: { tenant: string; userId?: string }) {
  return (
    <PagedTable<S["CdrOut"]>
      testid="cdrs"
      load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/cdrs", { params: { ...path(props.tenant), query: { limit, offset, user_id: props.userId } } }))}
      columns={[
        { title: "When", cell: (c) => fmt.date(c.start) },
        { title: "Direction", cell: (c) => c.direction },
        { title: "From", cell: (c) => c.caller },
        { title: "To", cell: (c) => c.callee },
        { title: "Duration", cell: (c) => fmt.secs(c.duration_ms), class: "num" },
        { title: "Result", cell: (c) => <Badge tone={c.disposition === "answered" ? "ok" : "warn"}>{c.disposition}</Badge> },
      ]}
      empty="No calls recorded."
    />
  );
}

function Calls({ params }: PageProps) {
  return (
    <Page title="Call records" subtitle="Every call, as the CPNI administrator allows">
      <Card>
        <CallTable tenant={params.tenant} />
      </Card>
    </Page>
  );
}

export function Player(props: { url: string; testid?: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  if (err) return <ErrorNotice error={err} />;
  if (!src)
    return (
      <button
        class="small"
        data-testid={props.testid}
        onClick={async () => {
          try {
            setSrc(URL.createObjectURL(await fetchBlob(props.url)));
          } catch (e) {
            setErr(e);
          }
        }}
      >
        ▶ Play
      </button>
    );
  return <audio controls autoPlay src={src} data-testid={props.testid ? `${props.testid}-audio` : undefined} />;
}

function Recordings({ params }: PageProps) {
  const tenant = params.tenant;
  return (
    <Page title="Call recordings" subtitle="Recorded calls, kept as the recording policy says">
      <Card>
        <PagedTable<S["RecordingOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/recordings", { params: { ...path(tenant), query: { limit, offset } } }))}
          columns={[
            { title: "When", cell: (r) => fmt.date(r.started_at) },
            { title: "From", cell: (r) => r.caller },
            { title: "To", cell: (r) => r.callee },
            { title: "Length", cell: (r) => fmt.secs(r.duration_ms), class: "num" },
            { title: "", cell: (r) => <Player url={`/api/v1/tenants/${tenant}/recordings/${r.id}.wav`} /> },
          ]}
          empty="No recordings."
        />
      </Card>
    </Page>
  );
}

function Invoices({ params }: PageProps) {
  return (
    <Page title="Invoices" subtitle="Your bills, as PDF">
      <Card>
        <InvoiceTable tenant={params.tenant} />
      </Card>
    </Page>
  );
}

function Usage({ params }: PageProps) {
  const tenant = params.tenant;
  const days = 30;
  const since = new Date(Date.now() - days * 86400_000);
  since.setUTCHours(0, 0, 0, 0);
  const cdrs = useLoad(async () => {
    const all: S["CdrOut"][] = [];
    for (let offset = 0; offset < 5000; offset += 500) {
      const page = await ok(api.GET("/api/v1/tenants/{tenant_id}/cdrs", { params: { ...path(tenant), query: { limit: 500, offset, from: since.toISOString() } } }));
      all.push(...page.items);
      if (all.length >= page.total || page.items.length === 0) break;
    }
    return all;
  }, [tenant]);
  const config = useMemo(() => {
    const labels: string[] = [];
    const calls: number[] = [];
    const minutes: number[] = [];
    for (let i = 0; i <= days; i++) {
      const d = new Date(since.getTime() + i * 86400_000).toISOString().slice(0, 10);
      labels.push(d.slice(5));
      const day = (cdrs.data ?? []).filter((c) => c.start.slice(0, 10) === d);
      calls.push(day.length);
      minutes.push(Math.round(day.reduce((s, c) => s + (c.duration_ms ?? 0), 0) / 60000));
    }
    return {
      type: "bar" as const,
      data: {
        labels,
        datasets: [
          { label: "Calls", data: calls, backgroundColor: "#1c7ed6" },
          { label: "Minutes", data: minutes, backgroundColor: "#82c91e" },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    };
  }, [cdrs.data]);
  return (
    <Page title="Usage" subtitle={`Calls and minutes per day, last ${days} days (UTC)`}>
      <Card>
        {cdrs.error ? <ErrorNotice error={cdrs.error} /> : <ChartView config={config} height={300} testid="usage-chart" />}
      </Card>
    </Page>
  );
}

/** Calls per site against its capacity (voip-service-guide.txt §V.3), refreshed every 5 s. */
function Capacity({ params }: PageProps) {
  const tenant = params.tenant;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);
  const cap = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/capacity", { params: path(tenant) })), [tenant, tick]);
  const sites = cap.data?.sites ?? [];
  const config = useMemo(
    () => ({
      type: "bar" as const,
      data: {
        labels: sites.map((s) => s.name),
        datasets: [
          { label: "Calls now", data: sites.map((s) => s.calls_now ?? 0), backgroundColor: "#1c7ed6" },
          { label: "Most calls at once", data: sites.map((s) => s.max_calls), backgroundColor: "#ced4da" },
        ],
      },
      options: { indexAxis: "y" as const, scales: { x: { beginAtZero: true } } },
    }),
    [cap.data],
  );
  return (
    <Page title="Capacity" subtitle="Calls at each site against the calls it may carry">
      <Card>
        {cap.error ? <ErrorNotice error={cap.error} /> : <ChartView config={config} height={80 + 40 * sites.length} testid="capacity-chart" />}
      </Card>
      <Card>
        <table data-testid="capacity">
          <thead>
            <tr><th>Site</th><th class="num">Calls now</th><th class="num">Units</th><th class="num">Most at once</th><th>Refused</th></tr>
          </thead>
          <tbody>
            {sites.map((s) => (
              <tr>
                <td>{s.name}{s.metered && <span class="muted small"> metered</span>}</td>
                <td class="num">{s.calls_now ?? "—"}</td>
                <td class="num">{s.units}</td>
                <td class="num">{s.max_calls}</td>
                <td>{Object.entries(s.blocked).map(([k, n]) => `${k}: ${n}`).join(", ") || "none"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </Page>
  );
}

export const adminRoutes: RouteDef[] = [
  { path: "/t/:tenant/users", title: "Users", page: Users },
  { path: "/t/:tenant/devices", title: "Devices", page: Devices },
  numbersRoute,
  { path: "/t/:tenant/hunt-groups", title: "Hunt groups", page: HuntGroups },
  { path: "/t/:tenant/queues", title: "Queues", page: Queues },
  { path: "/t/:tenant/attendants", title: "Auto attendants", page: Attendants },
  { path: "/t/:tenant/e911", title: "911 locations", page: E911 },
  { path: "/t/:tenant/calls", title: "Call records", page: Calls },
  { path: "/t/:tenant/recordings", title: "Recordings", page: Recordings },
  { path: "/t/:tenant/invoices", title: "Invoices", page: Invoices },
  { path: "/t/:tenant/usage", title: "Usage", page: Usage },
  { path: "/t/:tenant/capacity", title: "Capacity", page: Capacity },
  { path: "/t/:tenant/fair-use", title: "Fair use", page: FairUse },
  insightsRoute,
  { path: "/t/:tenant/attendants/:menu", title: "Auto attendant", page: AttendantEditor, nav: false },
  tenantAuditRoute,
];
