// Consent and do-not-call (issue 20 §2, docs/campaigns.md): the form that records a consent or a
// revocation, a number's consent as the ledger has it (used on a contact list's page), and the
// Compliance page with the consent ledger and the tenant's do-not-call list.
import { useState } from "preact/hooks";
import type { PageProps } from "../../app";
import { api, ok, ApiError } from "../../api/client";
import type { components } from "../../api/schema";
import { Badge, Card, ErrorNotice, Field, Form, Link, Page, PagedTable, Select, TextArea, fmt, useForm, useLoad, type Paged } from "../../ui/kit";
import { base, tenantPath, type Consent, type Dnc } from "./shared";

// -- recording consent, and a number's consent on record ------------------------------------------
const METHODS: [string, string][] = [
  ["web-form", "Web form"], ["paper", "Paper"], ["verbal", "Verbal"], ["keyword", "Keyword (texted in)"], ["api", "API"], ["import", "Import"], ["other", "Other"],
];

/** A number's consent as the ledger has it: the latest record of each channel and purpose. */
export function ConsentCell(props: { tenant: string; number: string; n: number }) {
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

export const consentInitial = { number: "", name: "", channel: "sms", purpose: "marketing", granted: true, method: "web-form", obtained_at: "", evidence: "" };
type ConsentIn = components["schemas"]["ConsentIn"];
type ConsentFormApi = ReturnType<typeof useForm<typeof consentInitial>>;

export function ConsentForm(props: { tenant: string; form: ConsentFormApi; done: () => void }) {
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

// -- consent ledger and do-not-call list --------------------------------------------------------------
export function Compliance({ params }: PageProps) {
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
