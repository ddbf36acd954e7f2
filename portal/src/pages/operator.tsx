// The operator console: tenants and their sites, the number inventory, porting, rate decks,
// billing runs, trunks and routes, alarms.
import { useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { operatorAuditRoute } from "./account";
import { BillingRunCard, DeckImportCard } from "./tasks";
import { api, fetchBlob, ok } from "../api/client";
import type { components } from "../api/schema";
import {
  Badge, Card, ErrorNotice, Field, Form, Link, Notice, Page, PagedTable, Select, fmt, useForm, useLoad,
} from "../ui/kit";

type S = components["schemas"];

function useTenants() {
  return useLoad(() => ok(api.GET("/api/v1/tenants", { params: { query: { limit: 200 } } })), []);
}

function TenantPicker(props: { value: string; onChange: (v: string) => void }) {
  const { data } = useTenants();
  return (
    <div class="field inline">
      <label for="tenant-picker">Tenant</label>
      <select id="tenant-picker" value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">Choose a tenant…</option>
        {data?.items.map((t) => <option value={t.id}>{t.name} ({t.sip_domain})</option>)}
      </select>
    </div>
  );
}

// Typed by the generated schema: a value the API does not accept fails the build.
const SERVICE_TYPES: [S["ServiceType"], string][] = [["hosted-centrex", "Hosted Centrex"], ["ip-trunking", "IP trunking"], ["integrated-access", "Integrated access"]];
const PLANS: [S["PricingPlan"], string][] = [["bundled", "Bundled"], ["a-la-carte", "À la carte"]];

const statusTone = (s: string) => (s === "active" ? "ok" : s === "suspended" ? "warn" : s === "terminated" ? "bad" : "info");

function Tenants(_: PageProps) {
  const [n, setN] = useState(0);
  const [search, setSearch] = useState("");
  const form = useForm({ name: "", sip_domain: "", service_type: "hosted-centrex" as S["ServiceType"], pricing_plan: "bundled" as S["PricingPlan"] });
  return (
    <Page title="Tenants" subtitle="Every customer of the service">
      <div class="two">
        <Card title="All tenants">
          <input class="search" placeholder="Search by name or domain" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
          <PagedTable<S["TenantOut"]>
            testid="tenants"
            deps={[n, search]}
            load={(limit, offset) => ok(api.GET("/api/v1/tenants", { params: { query: { limit, offset, search: search || undefined } } }))}
            columns={[
              { title: "Name", cell: (t) => <Link href={`/op/tenants/${t.id}`}>{t.name}</Link> },
              { title: "SIP domain", cell: (t) => <code>{t.sip_domain}</code> },
              { title: "Status", cell: (t) => <Badge tone={statusTone(t.status)}>{t.status}</Badge> },
              { title: "Plan", cell: (t) => t.pricing_plan },
              { title: "Since", cell: (t) => fmt.day(t.created_at) },
            ]}
          />
        </Card>
        <Card title="New tenant">
          <Form
            form={form}
            submit="Create tenant"
            testid="tenant-form"
            onSubmit={() =>
              form.submit(async (v) => {
                const t = await ok(api.POST("/api/v1/tenants", { body: v }));
                setN(n + 1);
                return <>Tenant <strong>{t.name}</strong> created.</>;
              })
            }
          >
            <Field form={form} name="name" label="Name" required />
            <Field form={form} name="sip_domain" label="SIP domain" placeholder="acme.example.com" required />
            <Select form={form} name="service_type" label="Service" options={SERVICE_TYPES} />
            <Select form={form} name="pricing_plan" label="Pricing plan" options={PLANS} />
          </Form>
        </Card>
      </div>
    </Page>
  );
}

function TenantDetail({ params }: PageProps) {
  const id = params.tenant;
  const tenant = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}", { params: { path: { tenant_id: id } } })), [id]);
  const [n, setN] = useState(0);
  const form = useForm({ name: "", street: "", city: "", state: "", postal_code: "", npa_nxx: "" });
  if (tenant.error) return <Page title="Tenant"><ErrorNotice error={tenant.error} /></Page>;
  const t = tenant.data;
  return (
    <Page
      title={t ? t.name : "Tenant"}
      subtitle={t ? `${t.sip_domain} · ${t.service_type} · ${t.pricing_plan}` : ""}
      actions={<Link class="button" href={`/t/${id}/users`}>Manage users and phones →</Link>}
    >
      <div class="two">
        <Card title="Sites">
          <PagedTable<S["SiteOut"]>
            deps={[n]}
            load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/sites", { params: { path: { tenant_id: id }, query: { limit, offset } } }))}
            columns={[
              { title: "Name", cell: (s) => s.name },
              { title: "Address", cell: (s) => `${s.street}, ${s.city} ${s.state} ${s.postal_code}` },
              { title: "NPA-NXX", cell: (s) => s.npa_nxx },
              { title: "Calling units", cell: (s) => s.calling_units },
            ]}
          />
        </Card>
        <Card title="New site">
          <Form
            form={form}
            submit="Add site"
            onSubmit={() =>
              form.submit(async (v) => {
                await ok(api.POST("/api/v1/tenants/{tenant_id}/sites", { params: { path: { tenant_id: id } }, body: v }));
                setN(n + 1);
                return "Site added.";
              })
            }
          >
            <Field form={form} name="name" label="Name" required />
            <Field form={form} name="street" label="Street" required />
            <Field form={form} name="city" label="City" required />
            <Field form={form} name="state" label="State" placeholder="NY" required />
            <Field form={form} name="postal_code" label="Postal code" required />
            <Field form={form} name="npa_nxx" label="NPA-NXX" placeholder="212555" required />
          </Form>
        </Card>
      </div>
      <Card title="Numbers">
        <PagedTable<S["NumberOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/numbers", { params: { path: { tenant_id: id }, query: { limit, offset } } }))}
          columns={[
            { title: "Number", cell: (x) => <code>{x.e164}</code> },
            { title: "Status", cell: (x) => <Badge>{x.status}</Badge> },
            { title: "Routes to", cell: (x) => (x.target_type ? `${x.target_type}` : "—") },
          ]}
        />
      </Card>
    </Page>
  );
}

function AssignNumber(props: { number: S["NumberOut"]; tenants: S["TenantOut"][]; done: () => void }) {
  const form = useForm({ tenant_id: "" });
  if (props.number.status !== "available") return <span class="muted">—</span>;
  return (
    <form
      class="inline-form"
      data-testid={`assign-${props.number.e164}`}
      onSubmit={(e) => {
        e.preventDefault();
        form.submit(async (v) => {
          await ok(api.POST("/api/v1/numbers/{number_id}/allocate", { params: { path: { number_id: props.number.id } }, body: { tenant_id: v.tenant_id } }));
          props.done();
        });
      }}
    >
      <select name="tenant_id" value={form.values.tenant_id} onChange={(e) => form.set("tenant_id", (e.target as HTMLSelectElement).value)}>
        <option value="">Assign to…</option>
        {props.tenants.map((t) => <option value={t.id}>{t.name}</option>)}
      </select>
      <button type="submit" class="small" disabled={!form.values.tenant_id || form.busy}>Assign</button>
      {form.message?.kind === "error" && <small class="error-text">{form.message.text}</small>}
    </form>
  );
}

function Numbers(_: PageProps) {
  const [n, setN] = useState(0);
  const [status, setStatus] = useState<S["NumberStatus"] | "">("");
  const tenants = useTenants();
  const form = useForm({ e164: "", kind: "did" as S["NumberKind"] });
  const tenantName = (id: string | null) => tenants.data?.items.find((t) => t.id === id)?.name ?? (id ? id.slice(0, 8) : "—");
  return (
    <Page title="Number inventory" subtitle="The pool of DIDs and toll-free numbers, and who holds them">
      <div class="two">
        <Card title="Inventory">
          <div class="filters">
            {(["", "available", "assigned", "reserved", "porting", "aging"] as const).map((s) => (
              <button class={`chip ${status === s ? "active" : ""}`} onClick={() => setStatus(s)}>{s || "all"}</button>
            ))}
          </div>
          <PagedTable<S["NumberOut"]>
            testid="numbers"
            deps={[n, status, tenants.data]}
            load={(limit, offset) =>
              ok(api.GET("/api/v1/numbers", { params: { query: { limit, offset, status: status || undefined } } }))
            }
            columns={[
              { title: "Number", cell: (x) => <code>{x.e164}</code> },
              { title: "Kind", cell: (x) => x.kind },
              { title: "Status", cell: (x) => <Badge tone={x.status === "available" ? "ok" : "info"}>{x.status}</Badge> },
              { title: "Tenant", cell: (x) => tenantName(x.tenant_id) },
              { title: "", cell: (x) => <AssignNumber number={x} tenants={tenants.data?.items ?? []} done={() => setN(n + 1)} /> },
            ]}
          />
        </Card>
        <Card title="Add a number">
          <Form
            form={form}
            submit="Add to pool"
            testid="number-form"
            onSubmit={() =>
              form.submit(async (v) => {
                const x = await ok(api.POST("/api/v1/numbers", { body: v }));
                setN(n + 1);
                return <>Added <code>{x.e164}</code>.</>;
              })
            }
          >
            <Field form={form} name="e164" label="Number (E.164)" placeholder="+12125550100" required />
            <Select form={form} name="kind" label="Kind" options={[["did", "DID"], ["toll-free", "Toll-free"]]} />
          </Form>
        </Card>
      </div>
    </Page>
  );
}

function PortProgress(props: { tenant: string; order: S["PortOrderOut"]; done: () => void }) {
  const o = props.order;
  const [foc, setFoc] = useState(o.requested_foc_date ?? "");
  const [err, setErr] = useState<unknown>(null);
  const path = { path: { tenant_id: props.tenant, order_id: o.id } };
  async function run(p: Promise<unknown>) {
    setErr(null);
    try {
      await p;
      props.done();
    } catch (e) {
      setErr(e);
    }
  }
  if (o.status !== "submitted" && o.status !== "foc") return <span class="muted small">{o.rejection_reason || "—"}</span>;
  return (
    <span class="row-actions">
      <input type="date" value={foc} onInput={(e) => setFoc((e.target as HTMLInputElement).value)} />
      <button class="small ghost" disabled={!foc} onClick={() => run(ok(api.POST("/api/v1/tenants/{tenant_id}/port-orders/{order_id}/foc", { params: path, body: { foc_date: foc } })))}>FOC</button>
      {o.status === "foc" && <button class="small ghost" onClick={() => run(ok(api.POST("/api/v1/tenants/{tenant_id}/port-orders/{order_id}/complete", { params: path, body: {} })))}>Complete</button>}
      <button
        class="small ghost danger"
        onClick={() => {
          const reason = prompt("The losing carrier's reason for rejecting");
          if (reason) run(ok(api.POST("/api/v1/tenants/{tenant_id}/port-orders/{order_id}/reject", { params: path, body: { reason } })));
        }}
      >
        Reject
      </button>
      {err ? <ErrorNotice error={err} /> : null}
    </span>
  );
}

function PortOrders(_: PageProps) {
  const [tenant, setTenant] = useState("");
  const [n, setN] = useState(0);
  return (
    <Page title="Porting orders" subtitle="Numbers moving in from other carriers: record the losing carrier's answers">
      <Card>
        <TenantPicker value={tenant} onChange={setTenant} />
        {tenant ? (
          <PagedTable<S["PortOrderOut"]>
            deps={[tenant, n]}
            load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/port-orders", { params: { path: { tenant_id: tenant }, query: { limit, offset } } }))}
            columns={[
              { title: "Numbers", cell: (o) => o.numbers.join(", ") || "—" },
              { title: "Status", cell: (o) => <Badge>{o.status}</Badge> },
              { title: "Account", cell: (o) => o.account_name || "—" },
              { title: "Requested FOC", cell: (o) => o.requested_foc_date ?? "—" },
              { title: "FOC", cell: (o) => o.foc_date ?? "—" },
              { title: "Carrier's answer", cell: (o) => <PortProgress tenant={tenant} order={o} done={() => setN(n + 1)} /> },
            ]}
            empty="No porting orders for this tenant."
          />
        ) : (
          <p class="muted">Choose a tenant to see its porting orders.</p>
        )}
      </Card>
    </Page>
  );
}

function RateDecks(_: PageProps) {
  const decks = useLoad(() => ok(api.GET("/api/v1/rate-decks")), []);
  return (
    <Page title="Rate decks" subtitle="Per-minute rates by prefix, imported from CSV">
      <div class="two">
        <Card title="Decks">
          {decks.error ? <ErrorNotice error={decks.error} /> : (
            <table>
              <thead><tr><th>Name</th><th>Version</th><th>Rows</th><th>Imported</th></tr></thead>
              <tbody>
                {(decks.data ?? []).map((d) => (
                  <tr><td>{d.name}</td><td>{d.version ?? "—"}</td><td>{d.rows}</td><td>{fmt.date(d.imported_at)}</td></tr>
                ))}
                {decks.data?.length === 0 && <tr><td colSpan={4} class="muted">No decks yet.</td></tr>}
              </tbody>
            </table>
          )}
        </Card>
        <DeckImportCard onImported={decks.reload} />
      </div>
    </Page>
  );
}

function Billing(_: PageProps) {
  const [tenant, setTenant] = useState("");
  const [n, setN] = useState(0);
  const month = new Date().toISOString().slice(0, 7);
  const form = useForm({ period: month });
  return (
    <Page title="Billing runs" subtitle="Rate a month's calls, then invoice it">
      <BillingRunCard onDone={() => setN((x) => x + 1)} />
      <Card title="One tenant">
        <TenantPicker value={tenant} onChange={setTenant} />
        {tenant && (
          <Form
            form={form}
            submit="Rate and invoice"
            onSubmit={() =>
              form.submit(async (v) => {
                const run = await ok(api.POST("/api/v1/tenants/{tenant_id}/billing/rating-runs", { params: { path: { tenant_id: tenant } }, body: { period: v.period } }));
                await ok(api.POST("/api/v1/tenants/{tenant_id}/billing/invoices", { params: { path: { tenant_id: tenant } }, body: { period: v.period } }));
                setN(n + 1);
                return `Rated ${run.cdr_count} calls (${run.unrated_count} unrated), total ${fmt.money(run.total)}; invoices run.`;
              }, false)
            }
          >
            <Field form={form} name="period" label="Period (YYYY-MM)" placeholder={month} required />
          </Form>
        )}
      </Card>
      {tenant && (
        <div class="two">
          <Card title="Rating runs">
            <PagedTable<S["RatingRunOut"]>
              deps={[tenant, n]}
              load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/billing/rating-runs", { params: { path: { tenant_id: tenant }, query: { limit, offset } } }))}
              columns={[
                { title: "Period", cell: (r) => r.period_start.slice(0, 7) },
                { title: "Calls", cell: (r) => r.cdr_count },
                { title: "Unrated", cell: (r) => r.unrated_count },
                { title: "Total", cell: (r) => fmt.money(r.total), class: "num" },
                { title: "When", cell: (r) => fmt.date(r.created_at) },
              ]}
            />
          </Card>
          <Card title="Invoices">
            <InvoiceTable tenant={tenant} deps={[n]} />
          </Card>
        </div>
      )}
    </Page>
  );
}

export function InvoiceTable(props: { tenant: string; deps?: unknown[] }) {
  const [err, setErr] = useState<unknown>(null);
  async function download(inv: S["InvoiceSummary"]) {
    setErr(null);
    try {
      const blob = await fetchBlob(`/api/v1/tenants/${props.tenant}/billing/invoices/${inv.id}.pdf`);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `invoice-${inv.number}.pdf`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      setErr(e);
    }
  }
  return (
    <>
      <ErrorNotice error={err} />
      <PagedTable<S["InvoiceSummary"]>
        testid="invoices"
        deps={[props.tenant, ...(props.deps ?? [])]}
        load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/billing/invoices", { params: { path: { tenant_id: props.tenant }, query: { limit, offset } } }))}
        columns={[
          { title: "Invoice", cell: (i) => i.number },
          { title: "Date", cell: (i) => fmt.day(i.invoice_date) },
          { title: "Due", cell: (i) => fmt.day(i.due_date) },
          { title: "Total", cell: (i) => fmt.money(i.total), class: "num" },
          { title: "", cell: (i) => <button class="small ghost" onClick={() => download(i)}>PDF ↓</button> },
        ]}
        empty="No invoices yet."
      />
    </>
  );
}

function Trunks(_: PageProps) {
  return (
    <Page title="Trunks and routes" subtitle="Carrier and PBX trunks, and where outbound calls go">
      <Card title="Trunks">
        <PagedTable<S["TrunkOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/trunks", { params: { query: { limit, offset } } }))}
          columns={[
            { title: "Name", cell: (t) => t.name },
            { title: "Kind", cell: (t) => t.kind },
            {
              title: "Gateways",
              cell: (t) =>
                t.gateways.length === 0
                  ? "—"
                  : t.gateways.map((g) => (
                      <div data-testid="gateway">
                        {`${g.host}:${g.port} `}
                        {g.up == null ? <span class="muted small">state unknown</span> : <Badge tone={g.up ? "ok" : "warn"}>{g.up ? "up" : `down (${g.failures} failures)`}</Badge>}
                      </div>
                    )),
            },
            { title: "Max calls", cell: (t) => t.max_calls ?? "—" },
            { title: "State", cell: (t) => <Badge tone={t.enabled ? "ok" : "warn"}>{t.enabled ? "enabled" : "disabled"}</Badge> },
          ]}
          empty="No trunks."
        />
        <p class="muted small">Each gateway's state is the switch's own: down after a 5xx or a timeout, up again when it answers an OPTIONS probe.</p>
      </Card>
      <Card title="Outbound routes">
        <PagedTable<S["RouteOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/outbound-routes", { params: { query: { limit, offset } } }))}
          columns={[
            { title: "Prefix", cell: (r) => <code>{r.prefix || "(any)"}</code> },
            { title: "Priority", cell: (r) => r.priority },
            { title: "Weight", cell: (r) => r.weight },
            { title: "Trunk", cell: (r) => <code>{r.trunk_id.slice(0, 8)}</code> },
            { title: "Tenant", cell: (r) => (r.tenant_id ? <code>{r.tenant_id.slice(0, 8)}</code> : "all") },
          ]}
          empty="No routes."
        />
      </Card>
    </Page>
  );
}

function Alarms(_: PageProps) {
  const [n, setN] = useState(0);
  const [state, setState] = useState<S["AlarmState"]>("open");
  const [err, setErr] = useState<unknown>(null);
  async function act(id: string, what: "acknowledge" | "clear") {
    setErr(null);
    try {
      if (what === "acknowledge") await ok(api.POST("/api/v1/alarms/{alarm_id}/acknowledge", { params: { path: { alarm_id: id } } }));
      else await ok(api.POST("/api/v1/alarms/{alarm_id}/clear", { params: { path: { alarm_id: id } } }));
      setN(n + 1);
    } catch (e) {
      setErr(e);
    }
  }
  return (
    <Page title="Alarms" subtitle="What needs an operator's attention">
      <Card>
        <div class="filters">
          {(["open", "cleared", "all"] as S["AlarmState"][]).map((s) => (
            <button class={`chip ${state === s ? "active" : ""}`} onClick={() => setState(s)}>{s}</button>
          ))}
        </div>
        <ErrorNotice error={err} />
        <PagedTable<S["AlarmOut"]>
          deps={[n, state]}
          load={(limit, offset) => ok(api.GET("/api/v1/alarms", { params: { query: { limit, offset, state } } }))}
          columns={[
            { title: "Priority", cell: (a) => <Badge tone={a.priority <= 2 ? "bad" : "warn"}>P{a.priority}</Badge> },
            { title: "Component", cell: (a) => a.component },
            { title: "Summary", cell: (a) => a.summary },
            { title: "Raised", cell: (a) => fmt.date(a.raised_at) },
            { title: "Seen", cell: (a) => `${a.occurrences}×` },
            {
              title: "",
              cell: (a) =>
                a.cleared_at ? <Badge tone="ok">cleared</Badge> : (
                  <span class="row-actions">
                    {!a.acknowledged_at && <button class="small ghost" onClick={() => act(a.id, "acknowledge")}>Acknowledge</button>}
                    <button class="small ghost" onClick={() => act(a.id, "clear")}>Clear</button>
                  </span>
                ),
            },
          ]}
          empty="No alarms. All quiet."
        />
      </Card>
      <Notice>Capacity and fair-use findings pages come with those features' portal work.</Notice>
    </Page>
  );
}

export const operatorRoutes: RouteDef[] = [
  { path: "/op/tenants", title: "Tenants", page: Tenants },
  { path: "/op/tenants/:tenant", title: "Tenant", page: TenantDetail, nav: false },
  { path: "/op/numbers", title: "Numbers", page: Numbers },
  { path: "/op/port-orders", title: "Porting", page: PortOrders },
  { path: "/op/rate-decks", title: "Rate decks", page: RateDecks },
  { path: "/op/billing", title: "Billing", page: Billing },
  { path: "/op/trunks", title: "Trunks & routes", page: Trunks },
  { path: "/op/alarms", title: "Alarms", page: Alarms },
  operatorAuditRoute,
];
