// Campaigns (issue 20 §2, docs/campaigns.md): the tenant's SMS and voice-app campaigns with their
// state and report figures, a new campaign (contact list, channel, purpose, sender, message or voice
// app, throttle, start now or later), cancelling one; contact lists (contacts added by hand or from a
// CSV file) with each contact's consent on record; the consent ledger and the tenant's do-not-call
// list; one campaign's report (sent, delivered, skipped and deferred by reason) and its recipients.
// Office administrators and developers see it beside Flows; the API (store/policy.py, Resource
// CAMPAIGN) decides who may, and the runner decides who is reached — the page only shows it.
// This module holds the campaigns list, a new campaign, cancelling and one campaign's report, and
// the routes; contacts.tsx the contact lists, compliance.tsx consent and do-not-call, shared.tsx
// the shapes, paths and reason labels they share.
import { useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../../app";
import { api, ok, ApiError } from "../../api/client";
import type { components } from "../../api/schema";
import { navigate } from "../../router";
import { Badge, Card, ErrorNotice, Field, Form, Link, Page, PagedTable, Select, TextArea, fmt, useForm, useLoad, type Paged } from "../../ui/kit";
import { Compliance } from "./compliance";
import { ContactListPage, ContactLists } from "./contacts";
import {
  ACTIVE, REASONS, STATUS_TONE, ReasonCounts, base, campaignPath, reasonLabel, tenantPath, useRefresh, type Campaign, type ContactList, type Recipient, type Report,
} from "./shared";

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

// -- the campaigns --------------------------------------------------------------------------------
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
