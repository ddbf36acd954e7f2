// Campaigns (issue 20 §2, docs/campaigns.md): the tenant's SMS and voice-app campaigns with their
// state and report figures, a new campaign (contact list, channel, purpose, sender, message or voice
// app, throttle, start now or later), cancelling one; contact lists (contacts added by hand or from a
// CSV file) with each contact's consent on record; the consent ledger and the tenant's do-not-call
// list; one campaign's report (sent, delivered, skipped and deferred by reason) and its recipients.
// Office administrators and developers see it beside Flows; the API (store/policy.py, Resource
// CAMPAIGN) decides who may, and the runner decides who is reached — the page only shows it.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { api, ok, ApiError } from "../api/client";
import type { components } from "../api/schema";
import { navigate } from "../router";
import {
  Badge, Card, ErrorNotice, Field, Form, Link, Notice, Page, PagedTable, Select, TextArea, fmt, useForm, useLoad, type Paged,
} from "../ui/kit";

// The campaign routes answer plain JSON objects (no response model): their shapes, as
// api/routers/campaigns.py, campaign_compliance.py and cpaas/campaigns/report.py write them.
type Campaign = {
  id: string;
  name: string;
  list_id: string;
  channel: "sms" | "voice";
  purpose: "marketing" | "informational";
  from: string;
  body: string;
  voice_url: string | null;
  voice_twiml: string | null;
  rate_per_s: number;
  status: string;
  scheduled_at: string;
  started_at: string | null;
  finished_at: string | null;
};
type Report = {
  status: string;
  total: number;
  pending: number;
  deferred: number;
  deferred_by_reason: Record<string, number>;
  sent: number;
  delivered: number;
  failed: number;
  failed_by_reason: Record<string, number>;
  skipped: number;
  skipped_by_reason: Record<string, number>;
  awaiting_receipt: number;
};
type ContactList = { id: string; name: string; description: string; contacts?: number };
type Contact = { id: string; number: string; name: string; state: string | null; time_zones: string[]; location_source: string; attributes: Record<string, string> };
type NewContact = { number: string; name?: string; state?: string; time_zone?: string; attributes?: Record<string, string> };
type Consent = { id: string; number: string; name: string; channel: string; purpose: string; granted: boolean; obtained_at: string; method: string; evidence: string; recorded_by: string };
type Dnc = { id?: string; number: string; reason: string; added_by: string; added_at: string };
type Recipient = { id?: string; number: string; status: string; reason: string | null; detail: string | null; not_before: string | null; deferrals: number; message_sid: string | null; call_sid: string | null; sent_at: string | null };

const tenantPath = (tenant_id: string) => ({ path: { tenant_id } });
const campaignPath = (tenant_id: string, campaign_id: string) => ({ path: { tenant_id, campaign_id } });
const listPath = (tenant_id: string, list_id: string) => ({ path: { tenant_id, list_id } });
const base = (tenant: string) => `/t/${tenant}/campaigns`;

// Why a contact was not reached: the scrub's reasons (cpaas/campaigns/scrub.py) and the runner's.
const REASONS: Record<string, [string, string]> = {
  no_consent: ["No consent", "no marketing consent of the number for the channel on record"],
  consent_revoked: ["Consent revoked", "the latest consent record is a revocation"],
  tenant_dnc: ["Your do-not-call list", "on the tenant's own do-not-call list"],
  opted_out: ["Opted out", "texted STOP to one of the tenant's numbers, not START since"],
  national_dnc: ["National Do-Not-Call Registry", "in the operator's copy of the registry"],
  reassigned: ["Reassigned number", "disconnected after consent was given (Reassigned Numbers Database)"],
  invalid_number: ["Invalid number", "not a number that can be reached"],
  quiet_hours: ["Quiet hours", "outside the allowed hours at the contact's place: sent when they open"],
  interrupted: ["Interrupted", "the runner stopped while sending (never sent twice)"],
  no_switch: ["No switch", "no switch in the process to place the call"],
};
const reasonLabel = (r: string) => REASONS[r]?.[0] ?? r.replace(/_/g, " ");
const STATUS_TONE: Record<string, "ok" | "warn" | "bad" | "info"> = { scheduled: "info", running: "warn", completed: "ok", canceled: "bad" };
const ACTIVE = new Set(["scheduled", "running"]);
const METHODS: [string, string][] = [
  ["web-form", "Web form"], ["paper", "Paper"], ["verbal", "Verbal"], ["keyword", "Keyword (texted in)"], ["api", "API"], ["import", "Import"], ["other", "Other"],
];

function ReasonCounts(props: { counts: Record<string, number>; testid?: string }) {
  const entries = Object.entries(props.counts ?? {});
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <span class="small muted" data-testid={props.testid}>
      {entries.map(([r, n], i) => (
        <span data-reason={r}>{i > 0 && " · "}{reasonLabel(r).toLowerCase()}: {n}</span>
      ))}
    </span>
  );
}

/** Reload `reload` every `ms` while `on` (a campaign that is scheduled or sending). */
function useRefresh(on: boolean, reload: () => void, ms = 1500) {
  useEffect(() => {
    if (!on) return;
    const h = setInterval(reload, ms);
    return () => clearInterval(h);
  }, [on]);
}

function CancelButton(props: { tenant: string; campaign: Campaign; done: () => void }) {
  const [err, setErr] = useState<unknown>(null);
  if (!ACTIVE.has(props.campaign.status)) return null;
  return (
    <span class="row-actions">
      <button
        type="button"
        class="small ghost danger"
        data-testid="campaign-cancel"
        onClick={async () => {
          if (!confirm(`Cancel the campaign "${props.campaign.name}"? Contacts not reached yet will not be.`)) return;
          setErr(null);
          try {
            await ok(api.POST("/api/v1/tenants/{tenant_id}/campaigns/{campaign_id}/cancel", { params: campaignPath(props.tenant, props.campaign.id) }));
            props.done();
          } catch (e) {
            setErr(e);
          }
        }}
      >
        Cancel
      </button>
      {err ? <ErrorNotice error={err} /> : null}
    </span>
  );
}

// -- the campaigns and the contact lists -----------------------------------------------------------
function Campaigns({ params }: PageProps) {
  const tenant = params.tenant;
  const campaigns = useLoad(async () => {
    const rows = (await ok(api.GET("/api/v1/tenants/{tenant_id}/campaigns", { params: tenantPath(tenant) }))) as unknown as Campaign[];
    const reports = await Promise.all(
      rows.map((c) =>
        ok(api.GET("/api/v1/tenants/{tenant_id}/campaigns/{campaign_id}/report", { params: campaignPath(tenant, c.id) })).then(
          (r) => r as unknown as Report,
          () => null,
        ),
      ),
    );
    return rows.map((c, i) => ({ c, r: reports[i] }));
  }, [tenant]);
  const lists = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/contact-lists", { params: tenantPath(tenant) }))) as unknown as ContactList[], [tenant]);
  useRefresh(!!campaigns.data?.some(({ c }) => ACTIVE.has(c.status)), campaigns.reload, 2000);
  const rows = campaigns.data ?? [];
  return (
    <Page
      title="Campaigns"
      subtitle="SMS and voice-app campaigns to your contacts, checked for consent, do-not-call and quiet hours before each send"
      actions={<Link href={`${base(tenant)}/compliance`} testid="compliance-link">Consent and do-not-call</Link>}
    >
      <Card title="Campaigns">
        {campaigns.error ? (
          <ErrorNotice error={campaigns.error} />
        ) : !campaigns.data ? (
          <p class="muted">Loading…</p>
        ) : (
          <div class="table-wrap">
            <table data-testid="campaigns">
              <thead>
                <tr>
                  <th>Campaign</th><th>Channel</th><th>State</th><th>Starts</th>
                  <th class="num">Contacts</th><th class="num">Sent</th><th class="num">Delivered</th><th class="num">Deferred</th><th class="num">Failed</th>
                  <th>Skipped</th><th></th>
                </tr>
              </thead>
              <tbody>
                {rows.length === 0 && <tr><td colSpan={11} class="muted">No campaign yet: make a contact list, then a campaign.</td></tr>}
                {rows.map(({ c, r }) => (
                  <tr data-testid={`campaign-${c.name}`} data-status={c.status}>
                    <td><Link href={`${base(tenant)}/${c.id}`} testid={`open-${c.name}`}>{c.name}</Link></td>
                    <td>{c.channel === "sms" ? "SMS" : "Voice"} <span class="muted small">{c.purpose}</span></td>
                    <td><Badge tone={STATUS_TONE[c.status] ?? "info"}>{c.status}</Badge></td>
                    <td>{fmt.date(c.scheduled_at)}</td>
                    <td class="num" data-testid="total">{r?.total ?? "—"}</td>
                    <td class="num" data-testid="sent">{r?.sent ?? "—"}</td>
                    <td class="num" data-testid="delivered">{r?.delivered ?? "—"}</td>
                    <td class="num" data-testid="deferred">{r?.deferred ?? "—"}</td>
                    <td class="num" data-testid="failed">{r?.failed ?? "—"}</td>
                    <td>{r ? <><strong data-testid="skipped">{r.skipped}</strong>{r.skipped > 0 && <div><ReasonCounts counts={r.skipped_by_reason} testid="skipped-reasons" /></div>}</> : "—"}</td>
                    <td><CancelButton tenant={tenant} campaign={c} done={campaigns.reload} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <div class="two">
        <ContactLists tenant={tenant} lists={lists} />
        <NewCampaign tenant={tenant} lists={lists.data ?? []} />
      </div>
    </Page>
  );
}

function ContactLists(props: { tenant: string; lists: { data: ContactList[] | null; error: unknown } }) {
  const { tenant, lists } = props;
  const form = useForm({ name: "", description: "" });
  return (
    <Card title="Contact lists">
      {lists.error ? (
        <ErrorNotice error={lists.error} />
      ) : !lists.data ? (
        <p class="muted">Loading…</p>
      ) : (
        <table data-testid="contact-lists">
          <thead><tr><th>List</th><th>Description</th><th class="num">Contacts</th></tr></thead>
          <tbody>
            {lists.data.length === 0 && <tr><td colSpan={3} class="muted">No contact list yet.</td></tr>}
            {lists.data.map((l) => (
              <tr>
                <td><Link href={`${base(tenant)}/lists/${l.id}`} testid={`list-${l.name}`}>{l.name}</Link></td>
                <td class="muted">{l.description || "—"}</td>
                <td class="num">{l.contacts ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 style={{ marginTop: "18px" }}>New contact list</h2>
      <Form
        form={form}
        submit="Create and open"
        testid="list-form"
        onSubmit={() =>
          form.submit(async (v) => {
            const l = (await ok(api.POST("/api/v1/tenants/{tenant_id}/contact-lists", { params: tenantPath(tenant), body: v }))) as unknown as ContactList;
            navigate(`${base(tenant)}/lists/${l.id}`);
          }, false)
        }
      >
        <Field form={form} name="name" label="Name" required placeholder="Spring offer" />
        <Field form={form} name="description" label="Description" />
      </Form>
    </Card>
  );
}

function NewCampaign(props: { tenant: string; lists: ContactList[] }) {
  const { tenant } = props;
  const numbers = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/numbers", { params: { ...tenantPath(tenant), query: { limit: 200 } } })), [tenant]);
  const form = useForm({
    name: "", list_id: "", channel: "sms", purpose: "marketing", from: "", body: "", voice_url: "", voice_twiml: "", rate_per_s: "1", start: "now", scheduled_at: "",
  });
  const v = form.values;
  const owned = (numbers.data?.items ?? []).map((n) => n.e164);
  return (
    <Card title="New campaign">
      <Form
        form={form}
        submit={v.start === "now" ? "Create and start" : "Schedule"}
        testid="campaign-form"
        onSubmit={() =>
          form.submit(async (v) => {
            const body: components["schemas"]["CampaignIn"] = {
              name: v.name,
              list_id: v.list_id,
              channel: v.channel as "sms" | "voice",
              purpose: v.purpose as "marketing" | "informational",
              from: v.from,
              rate_per_s: Number(v.rate_per_s),
            };
            if (v.channel === "sms") body.body = v.body;
            else {
              if (v.voice_url) body.voice_url = v.voice_url;
              if (v.voice_twiml) body.voice_twiml = v.voice_twiml;
            }
            if (v.start === "later") {
              const when = new Date(v.scheduled_at); // the browser's local time, sent with its zone (UTC)
              if (!v.scheduled_at || isNaN(when.getTime())) throw new ApiError(422, { message: "Give the date and time to start at.", field: "scheduled_at" });
              body.scheduled_at = when.toISOString();
            }
            const c = (await ok(api.POST("/api/v1/tenants/{tenant_id}/campaigns", { params: tenantPath(tenant), body }))) as unknown as Campaign;
            navigate(`${base(tenant)}/${c.id}`);
          }, false)
        }
      >
        <Field form={form} name="name" label="Name" required placeholder="Spring offer" />
        <Select form={form} name="list_id" label="Contact list" options={[["", "Choose a list…"], ...props.lists.map((l): [string, string] => [l.id, `${l.name} (${l.contacts ?? 0})`])]} />
        <Select form={form} name="channel" label="Channel" options={[["sms", "SMS"], ["voice", "Voice (a voice app)"]]} />
        <Select form={form} name="purpose" label="Purpose" options={[["marketing", "Marketing"], ["informational", "Informational"]]} />
        {numbers.error || owned.length === 0 ? (
          <Field form={form} name="from" label="From (one of your numbers)" placeholder="+12125550100" required />
        ) : (
          <Select form={form} name="from" label="From (one of your numbers)" options={[["", "Choose a number…"], ...owned.map((n): [string, string] => [n, n])]} />
        )}
        {v.channel === "sms" ? (
          <TextArea form={form} name="body" label="Message" rows={4} required placeholder="Spring sale: 20% off this week. Reply STOP to opt out." />
        ) : (
          <>
            <Field form={form} name="voice_url" label="Voice app URL (TwiML answered on the call)" placeholder="https://example.com/voice" />
            <TextArea form={form} name="voice_twiml" label="…or the TwiML itself" rows={3} placeholder="<Response><Say>Hello</Say></Response>" />
          </>
        )}
        <Field form={form} name="rate_per_s" label="Throttle (sends a second)" type="number" hint="Sends are spaced evenly; the service sets the highest rate." />
        <Select form={form} name="start" label="Start" options={[["now", "Now"], ["later", "At a date and time"]]} />
        {v.start === "later" && <Field form={form} name="scheduled_at" label="Starts at (your local time)" type="datetime-local" />}
      </Form>
      <p class="muted small">
        Each contact is checked when the campaign reaches it: marketing needs the contact's consent on record; do-not-call lists, STOP and reassigned numbers are
        skipped; outside the allowed hours where the contact is, the send waits for the morning.
      </p>
    </Card>
  );
}

// -- one contact list --------------------------------------------------------------------------------
/** One CSV line: fields split at commas, "quoted, fields" kept whole. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") out.push(cur), (cur = "");
    else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

const KNOWN = ["number", "name", "state", "time_zone"];

/** Lines of `number, name[, state, time zone]`, or a CSV file whose header names its columns
 * (number or phone, name, state, time_zone; any other column is kept as an attribute). */
function parseContacts(text: string): { line: number; contact: NewContact }[] {
  const lines = text.split(/\r?\n/);
  let cols = KNOWN;
  let start = 0;
  const head = csvFields(lines[0] ?? "").map((h) => h.toLowerCase().replace(/\s+/g, "_"));
  if (head.includes("number") || head.includes("phone")) {
    cols = head.map((h) => (h === "phone" ? "number" : h));
    start = 1;
  }
  const out: { line: number; contact: NewContact }[] = [];
  for (let i = start; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const cells = csvFields(lines[i]);
    const c: Record<string, unknown> = {};
    const attributes: Record<string, string> = {};
    cols.forEach((k, j) => {
      const value = cells[j] ?? "";
      if (!value) return;
      if (KNOWN.includes(k)) c[k] = value;
      else if (k) attributes[k] = value;
    });
    if (Object.keys(attributes).length) c.attributes = attributes;
    out.push({ line: i + 1, contact: c as NewContact });
  }
  return out;
}

const MAX_PER_REQUEST = 10_000; // POST …/contacts takes up to 10,000 contacts a request

/** Send the contacts in requests of at most 10,000; a refused contact is named by its line. */
async function addContacts(tenant: string, list: string, text: string, field: string): Promise<{ added: number; updated: number }> {
  const rows = parseContacts(text);
  if (rows.length === 0) throw new ApiError(422, { message: "No contacts: one a line, number first.", field });
  let added = 0;
  let updated = 0;
  for (let at = 0; at < rows.length; at += MAX_PER_REQUEST) {
    const chunk = rows.slice(at, at + MAX_PER_REQUEST);
    try {
      const r = (await ok(
        api.POST("/api/v1/tenants/{tenant_id}/contact-lists/{list_id}/contacts", { params: listPath(tenant, list), body: { contacts: chunk.map((r) => r.contact) } }),
      )) as unknown as { added: number; updated: number };
      added += r.added;
      updated += r.updated;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const where = `${e.body?.field ?? ""} ${(e.body?.errors ?? []).map((x) => x.field).join(" ")}`.match(/contacts[[.](\d+)/);
      const line = where ? chunk[Number(where[1])]?.line : undefined;
      const done = at > 0 ? ` (the ${at} contacts before it were added)` : "";
      throw new ApiError(e.status, { ...e.body, message: `${line ? `Line ${line}: ` : ""}${e.message}${done}`, field, errors: [] });
    }
  }
  return { added, updated };
}

function AddContacts(props: { tenant: string; list: string; done: () => void }) {
  const form = useForm({ contacts: "" });
  const [file, setFile] = useState<{ kind: "ok" | "error"; text: ComponentChildren } | null>(null);
  const summary = (r: { added: number; updated: number }) => `${r.added} added, ${r.updated} updated.`;
  return (
    <Card title="Add contacts">
      <Form
        form={form}
        submit="Add"
        testid="contacts-form"
        onSubmit={() =>
          form.submit(async (v) => {
            const r = await addContacts(props.tenant, props.list, v.contacts, "contacts");
            props.done();
            return summary(r);
          })
        }
      >
        <TextArea
          form={form}
          name="contacts"
          label="Contacts, one a line: number, name"
          rows={5}
          placeholder={"(212) 555-0100, Ada Lovelace\n+14155550123, Alan Turing"}
          hint="Numbers as people write them; the state and time zone come from the number unless given (number, name, state, time zone)."
        />
      </Form>
      <h2 style={{ marginTop: "18px" }}>Import a CSV file</h2>
      <p class="muted small">A header line names the columns: number (or phone), name, state, time_zone; other columns are kept as attributes. The same number again updates it.</p>
      {file && <Notice kind={file.kind}>{file.text}</Notice>}
      <input
        type="file"
        accept=".csv,text/csv,text/plain"
        data-testid="contacts-import"
        onChange={async (e) => {
          const input = e.target as HTMLInputElement;
          const f = input.files?.[0];
          if (!f) return;
          setFile(null);
          try {
            const r = await addContacts(props.tenant, props.list, await f.text(), "file");
            setFile({ kind: "ok", text: `${f.name}: ${summary(r)}` });
            props.done();
          } catch (err) {
            setFile({ kind: "error", text: `${f.name}: ${err instanceof Error ? err.message : String(err)}` });
          } finally {
            input.value = "";
          }
        }}
      />
    </Card>
  );
}

/** A number's consent as the ledger has it: the latest record of each channel and purpose. */
function ConsentCell(props: { tenant: string; number: string; n: number }) {
  const records = useLoad(
    async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/consent-records", { params: { ...tenantPath(props.tenant), query: { number: props.number, limit: 100 } } }))) as unknown as Paged<Consent>,
    [props.tenant, props.number, props.n],
  );
  if (records.error) return <ErrorNotice error={records.error} />;
  if (!records.data) return <span class="muted">…</span>;
  const latest = new Map<string, Consent>();
  for (const r of records.data.items) if (!latest.has(`${r.channel} ${r.purpose}`)) latest.set(`${r.channel} ${r.purpose}`, r); // newest first
  return (
    <span data-testid={`consent-${props.number}`}>
      {latest.size === 0 && <Badge tone="warn">no consent on record</Badge>}
      {[...latest.entries()].map(([k, r]) => (
        <span title={`${r.method}, ${fmt.date(r.obtained_at)}${r.evidence ? `: ${r.evidence}` : ""}`} data-consent={`${k} ${r.granted ? "granted" : "revoked"}`}>
          <Badge tone={r.granted ? "ok" : "bad"}>{k}{r.granted ? "" : " revoked"}</Badge>{" "}
        </span>
      ))}
    </span>
  );
}

const consentInitial = { number: "", name: "", channel: "sms", purpose: "marketing", granted: true, method: "web-form", obtained_at: "", evidence: "" };
type ConsentIn = components["schemas"]["ConsentIn"];
type ConsentFormApi = ReturnType<typeof useForm<typeof consentInitial>>;

function ConsentForm(props: { tenant: string; form: ConsentFormApi; done: () => void }) {
  const { form } = props;
  return (
    <Form
      form={form}
      submit={form.values.granted ? "Record consent" : "Record revocation"}
      testid="consent-form"
      onSubmit={() =>
        form.submit(async (v) => {
          const when = v.obtained_at ? new Date(v.obtained_at) : null;
          if (when && isNaN(when.getTime())) throw new ApiError(422, { message: "The date is not valid.", field: "obtained_at" });
          const r = (await ok(
            api.POST("/api/v1/tenants/{tenant_id}/consent-records", {
              params: tenantPath(props.tenant),
              body: {
                number: v.number,
                name: v.name,
                channel: v.channel as ConsentIn["channel"],
                purpose: v.purpose as ConsentIn["purpose"],
                granted: !!v.granted,
                method: v.method as ConsentIn["method"],
                evidence: v.evidence,
                obtained_at: when ? when.toISOString() : null,
              },
            }),
          )) as unknown as Consent;
          props.done();
          return <>{r.granted ? "Consent" : "Revocation"} recorded for <code>{r.number}</code> ({r.channel} {r.purpose}).</>;
        })
      }
    >
      <Field form={form} name="number" label="Number" required placeholder="+12125550100" />
      <Field form={form} name="name" label="Name of who gave it" />
      <Select form={form} name="channel" label="Channel" options={[["sms", "SMS"], ["voice", "Voice calls"]]} />
      <Select form={form} name="purpose" label="Purpose" options={[["marketing", "Marketing"], ["informational", "Informational"]]} />
      <Select form={form} name="method" label="How it was given" options={METHODS} />
      <Field form={form} name="obtained_at" label="When (empty: now)" type="datetime-local" />
      <TextArea form={form} name="evidence" label="Evidence" rows={2} placeholder="Checkbox on example.com/signup, IP 192.0.2.7" />
      <Field form={form} name="granted" label="Consent given (untick to record a revocation)" type="checkbox" />
    </Form>
  );
}

function ContactListPage({ params }: PageProps) {
  const { tenant, list: listId } = params;
  const [n, setN] = useState(0);
  const bump = () => setN((x) => x + 1);
  const list = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/contact-lists/{list_id}", { params: listPath(tenant, listId) }))) as unknown as ContactList, [tenant, listId, n]);
  const consent = useForm(consentInitial);
  const [err, setErr] = useState<unknown>(null);
  if (list.error) return <Page title="Contact list"><ErrorNotice error={list.error} /></Page>;
  if (!list.data) return <p class="muted">Loading…</p>;
  const l = list.data;
  const remove = async (f: () => Promise<unknown>) => {
    setErr(null);
    try {
      await f();
      bump();
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <Page
      title={l.name}
      subtitle={`Contact list · ${l.contacts ?? 0} contact${l.contacts === 1 ? "" : "s"}${l.description ? ` · ${l.description}` : ""}`}
      actions={
        <>
          <Link href={base(tenant)} testid="all-campaigns">All campaigns</Link>{" "}
          <button
            type="button"
            class="ghost danger"
            data-testid="list-delete"
            onClick={() =>
              confirm(`Delete the list "${l.name}" and its contacts?`) &&
              remove(async () => {
                await ok(api.DELETE("/api/v1/tenants/{tenant_id}/contact-lists/{list_id}", { params: listPath(tenant, listId) }));
                navigate(base(tenant));
              })
            }
          >
            Delete list
          </button>
        </>
      }
    >
      <ErrorNotice error={err} />
      <div class="two">
        <div>
          <Card title="Contacts">
            <PagedTable<Contact>
              testid="contacts"
              deps={[n]}
              load={async (limit, offset) =>
                (await ok(api.GET("/api/v1/tenants/{tenant_id}/contact-lists/{list_id}/contacts", { params: { ...listPath(tenant, listId), query: { limit, offset } } }))) as unknown as Paged<Contact>
              }
              empty="No contacts yet: add them on the right."
              columns={[
                { title: "Number", cell: (c) => <code>{c.number}</code> },
                { title: "Name", cell: (c) => c.name || "—" },
                { title: "Where", cell: (c) => <span title={c.location_source === "number" ? "from the number" : "as given"}>{[c.state, c.time_zones.join(", ")].filter(Boolean).join(" · ") || "—"}</span> },
                { title: "Consent on record", cell: (c) => <ConsentCell tenant={tenant} number={c.number} n={n} /> },
                {
                  title: "",
                  cell: (c) => (
                    <span class="row-actions">
                      <button type="button" class="small ghost" data-testid={`consent-for-${c.number}`} onClick={() => consent.setValues({ ...consentInitial, number: c.number, name: c.name })}>
                        Record consent
                      </button>
                      <button
                        type="button"
                        class="small ghost danger"
                        onClick={() => remove(() => ok(api.DELETE("/api/v1/tenants/{tenant_id}/contact-lists/{list_id}/contacts/{contact_id}", { params: { path: { tenant_id: tenant, list_id: listId, contact_id: c.id } } })))}
                      >
                        Remove
                      </button>
                    </span>
                  ),
                },
              ]}
            />
          </Card>
          <p class="muted small">
            Marketing campaigns reach only numbers whose latest consent record for the campaign's channel is a grant; informational ones skip a revocation. The whole
            ledger and the do-not-call list: <Link href={`${base(tenant)}/compliance`}>Consent and do-not-call</Link>.
          </p>
        </div>
        <div>
          <AddContacts tenant={tenant} list={listId} done={bump} />
          <Card title="Record consent">
            <ConsentForm tenant={tenant} form={consent} done={bump} />
          </Card>
        </div>
      </div>
    </Page>
  );
}

// -- consent ledger and do-not-call list --------------------------------------------------------------
function Compliance({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const bump = () => setN((x) => x + 1);
  const [search, setSearch] = useState("");
  const [number, setNumber] = useState("");
  const consent = useForm(consentInitial);
  const dnc = useForm({ number: "", reason: "" });
  const [err, setErr] = useState<unknown>(null);
  return (
    <Page title="Consent and do-not-call" subtitle="What every campaign is checked against: who agreed to be contacted, and who must not be" actions={<Link href={base(tenant)}>All campaigns</Link>}>
      <div class="two">
        <Card title="Consent records">
          <form
            class="inline-form"
            style={{ marginBottom: "12px" }}
            onSubmit={(e) => {
              e.preventDefault();
              setNumber(search.trim());
            }}
          >
            <input class="search" style={{ marginBottom: 0 }} placeholder="A number (any usual form)" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
            <button type="submit" class="ghost">Find</button>
          </form>
          <PagedTable<Consent>
            testid="consent-records"
            deps={[n, number]}
            load={async (limit, offset) =>
              (await ok(api.GET("/api/v1/tenants/{tenant_id}/consent-records", { params: { ...tenantPath(tenant), query: { limit, offset, number: number || undefined } } }))) as unknown as Paged<Consent>
            }
            empty="No consent records."
            columns={[
              { title: "When", cell: (r) => fmt.date(r.obtained_at) },
              { title: "Who", cell: (r) => <><code>{r.number}</code>{r.name && <div class="muted small">{r.name}</div>}</> },
              { title: "For", cell: (r) => <><Badge tone={r.granted ? "ok" : "bad"}>{r.granted ? "granted" : "revoked"}</Badge> <span class="small">{r.channel} {r.purpose}</span></> },
              {
                title: "How",
                cell: (r) => (
                  <span title={r.evidence}>
                    {r.method}
                    {r.evidence && <div class="muted small">{r.evidence.length > 60 ? `${r.evidence.slice(0, 60)}…` : r.evidence}</div>}
                  </span>
                ),
              },
              { title: "Recorded by", cell: (r) => <span class="muted small">{r.recorded_by}</span> },
            ]}
          />
          <p class="muted small">The ledger only grows: a revocation is a new record. The latest record of a number's channel and purpose is the one that counts.</p>
        </Card>
        <Card title="Record consent">
          <ConsentForm tenant={tenant} form={consent} done={bump} />
        </Card>
      </div>
      <div class="two">
        <Card title="Do-not-call list">
          <ErrorNotice error={err} />
          <PagedTable<Dnc>
            testid="dnc"
            deps={[n]}
            load={async (limit, offset) => (await ok(api.GET("/api/v1/tenants/{tenant_id}/dnc", { params: { ...tenantPath(tenant), query: { limit, offset } } }))) as unknown as Paged<Dnc>}
            empty="Nobody on the list."
            columns={[
              { title: "Number", cell: (d) => <code>{d.number}</code> },
              { title: "Reason", cell: (d) => d.reason || "—" },
              { title: "Added", cell: (d) => <>{fmt.date(d.added_at)} <span class="muted small">{d.added_by}</span></> },
              {
                title: "",
                cell: (d) => (
                  <button
                    type="button"
                    class="small ghost danger"
                    onClick={async () => {
                      setErr(null);
                      try {
                        await ok(api.DELETE("/api/v1/tenants/{tenant_id}/dnc/{number}", { params: { path: { tenant_id: tenant, number: d.number } } }));
                        bump();
                      } catch (e) {
                        setErr(e);
                      }
                    }}
                  >
                    Remove
                  </button>
                ),
              },
            ]}
          />
          <p class="muted small">
            Also never contacted: whoever texted STOP to one of your numbers (until START), and, as the operator keeps them, the National Do-Not-Call Registry and
            numbers reassigned since consent.
          </p>
        </Card>
        <Card title="Add to the do-not-call list">
          <Form
            form={dnc}
            submit="Add"
            testid="dnc-form"
            onSubmit={() =>
              dnc.submit(async (v) => {
                const d = (await ok(api.POST("/api/v1/tenants/{tenant_id}/dnc", { params: tenantPath(tenant), body: v }))) as unknown as Dnc;
                bump();
                return <><code>{d.number}</code> is on the list.</>;
              })
            }
          >
            <Field form={dnc} name="number" label="Number" required placeholder="+12125550100" />
            <Field form={dnc} name="reason" label="Reason" placeholder="Asked on the phone" />
          </Form>
        </Card>
      </div>
    </Page>
  );
}

// -- one campaign's report -----------------------------------------------------------------------------
function Stat(props: { label: string; value: number | undefined; id: string }) {
  return (
    <div class="stat">
      <span class="value" data-testid={`report-${props.id}`}>{props.value ?? "—"}</span>
      <span class="label">{props.label}</span>
    </div>
  );
}

function ReasonTable(props: { title: string; kind: string; counts: Record<string, number> }) {
  const entries = Object.entries(props.counts ?? {});
  if (entries.length === 0) return null;
  return (
    <>
      <h2 style={{ marginTop: "6px" }}>{props.title}</h2>
      <table data-testid={`${props.kind}-by-reason`} style={{ marginBottom: "14px" }}>
        <tbody>
          {entries.map(([r, n]) => (
            <tr data-testid={`${props.kind}-${r}`}>
              <td><strong>{reasonLabel(r)}</strong> <span class="muted small">{REASONS[r]?.[1] ?? ""}</span></td>
              <td class="num" data-testid="count">{n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const RECIPIENT_STATUS = ["", "sent", "skipped", "deferred", "failed", "pending", "sending"] as const;
const RECIPIENT_TONE: Record<string, "ok" | "warn" | "bad" | "info"> = { sent: "ok", skipped: "bad", failed: "bad", deferred: "warn" };

function CampaignPage({ params }: PageProps) {
  const { tenant, campaign: id } = params;
  const [status, setStatus] = useState<string>("");
  const campaign = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/campaigns/{campaign_id}", { params: campaignPath(tenant, id) }))) as unknown as Campaign, [tenant, id]);
  const report = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/campaigns/{campaign_id}/report", { params: campaignPath(tenant, id) }))) as unknown as Report, [tenant, id]);
  const lists = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/contact-lists", { params: tenantPath(tenant) }))) as unknown as ContactList[], [tenant]);
  const live = !!campaign.data && ACTIVE.has(campaign.data.status);
  // While it runs, and a little after (delivery receipts come after the last send).
  const awaiting = !!report.data && report.data.awaiting_receipt > 0;
  useRefresh(live || awaiting, () => (campaign.reload(), report.reload()), 1500);
  if (campaign.error) return <Page title="Campaign"><ErrorNotice error={campaign.error} /></Page>;
  if (!campaign.data) return <p class="muted">Loading…</p>;
  const c = campaign.data;
  const r = report.data;
  const list = lists.data?.find((l) => l.id === c.list_id);
  const version = r ? [r.total, r.sent, r.skipped, r.deferred, r.failed, r.pending, r.delivered].join("/") : "";
  return (
    <Page
      title={c.name}
      subtitle={`${c.channel === "sms" ? "SMS" : "Voice"} · ${c.purpose} · from ${c.from}`}
      actions={
        <>
          <Badge tone={STATUS_TONE[c.status] ?? "info"}><span data-testid="campaign-status">{c.status}</span></Badge>{" "}
          <Link href={base(tenant)} testid="all-campaigns">All campaigns</Link>{" "}
          <CancelButton tenant={tenant} campaign={c} done={() => (campaign.reload(), report.reload())} />
        </>
      }
    >
      {report.error ? <ErrorNotice error={report.error} /> : null}
      <div class="stats" data-testid="report">
        <Stat label="contacts" value={r?.total} id="total" />
        <Stat label="sent" value={r?.sent} id="sent" />
        <Stat label="delivered" value={r?.delivered} id="delivered" />
        <Stat label="skipped" value={r?.skipped} id="skipped" />
        <Stat label="deferred (quiet hours)" value={r?.deferred} id="deferred" />
        <Stat label="failed" value={r?.failed} id="failed" />
        <Stat label="not reached yet" value={r?.pending} id="pending" />
        <Stat label="awaiting a receipt" value={r?.awaiting_receipt} id="awaiting" />
      </div>
      <div class="two" style={{ marginTop: "18px" }}>
        <Card title="Why contacts were not sent to">
          {r && r.skipped + r.deferred + r.failed === 0 ? (
            <p class="muted">{r.total === 0 ? "The list is read when the campaign starts." : "Nobody was skipped, deferred or failed."}</p>
          ) : (
            <>
              <ReasonTable title="Skipped" kind="skipped" counts={r?.skipped_by_reason ?? {}} />
              <ReasonTable title="Deferred" kind="deferred" counts={r?.deferred_by_reason ?? {}} />
              <ReasonTable title="Failed" kind="failed" counts={r?.failed_by_reason ?? {}} />
            </>
          )}
        </Card>
        <Card title="Campaign">
          <dl class="details" data-testid="campaign-details">
            <dt>Contact list</dt>
            <dd>{list ? <Link href={`${base(tenant)}/lists/${list.id}`}>{list.name}</Link> : <code>{c.list_id}</code>}</dd>
            <dt>{c.channel === "sms" ? "Message" : "Voice app"}</dt>
            <dd>{c.channel === "sms" ? c.body : c.voice_url ? <code>{c.voice_url}</code> : <code>{c.voice_twiml}</code>}</dd>
            <dt>Throttle</dt>
            <dd>{c.rate_per_s} a second</dd>
            <dt>Starts</dt>
            <dd>{fmt.date(c.scheduled_at)}</dd>
            <dt>Started</dt>
            <dd>{fmt.date(c.started_at)}</dd>
            <dt>Finished</dt>
            <dd>{fmt.date(c.finished_at)}</dd>
          </dl>
        </Card>
      </div>
      <Card title="Recipients">
        <div class="filters">
          {RECIPIENT_STATUS.map((s) => (
            <button type="button" class={`chip ${status === s ? "active" : ""}`} onClick={() => setStatus(s)}>{s || "all"}</button>
          ))}
        </div>
        <PagedTable<Recipient>
          testid="recipients"
          deps={[status, version]}
          load={async (limit, offset) =>
            (await ok(
              api.GET("/api/v1/tenants/{tenant_id}/campaigns/{campaign_id}/recipients", { params: { ...campaignPath(tenant, id), query: { limit, offset, status: status || undefined } } }),
            )) as unknown as Paged<Recipient>
          }
          empty={c.status === "scheduled" ? "The contacts are read from the list when the campaign starts." : "Nobody here."}
          columns={[
            { title: "Number", cell: (x) => <code>{x.number}</code> },
            { title: "Outcome", cell: (x) => <span data-testid={`recipient-${x.number}`} data-status={x.status} data-reason={x.reason ?? ""}><Badge tone={RECIPIENT_TONE[x.status] ?? "info"}>{x.status}</Badge> {x.reason ? reasonLabel(x.reason) : ""}</span> },
            { title: "Detail", cell: (x) => <span class="muted small">{x.detail ?? (x.not_before ? `not before ${fmt.date(x.not_before)}` : "")}</span> },
            { title: "Sent", cell: (x) => fmt.date(x.sent_at) },
            { title: "Message / call", cell: (x) => (x.message_sid || x.call_sid ? <code>{x.message_sid ?? x.call_sid}</code> : "—") },
          ]}
        />
      </Card>
    </Page>
  );
}

export const campaignRoutes: RouteDef[] = [
  { path: "/t/:tenant/campaigns", title: "Campaigns", page: Campaigns },
  { path: "/t/:tenant/campaigns/compliance", title: "Consent and do-not-call", page: Compliance, nav: false },
  { path: "/t/:tenant/campaigns/lists/:list", title: "Contact list", page: ContactListPage, nav: false },
  { path: "/t/:tenant/campaigns/:campaign", title: "Campaign", page: CampaignPage, nav: false },
];
