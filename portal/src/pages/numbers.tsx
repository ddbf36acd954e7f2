// The office's numbers: where each DID rings (MAC 9, incoming call routing) and porting orders for
// numbers coming from another carrier (hosted-pbx.txt §2.5: the draft is saved as typed; submitting
// asks the API to check it is complete).
import { useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Badge, Card, ErrorNotice, Field, Form, Page, PagedTable, fmt, useForm, useLoad } from "../ui/kit";

type S = components["schemas"];
type Target = NonNullable<S["NumberTarget"]>;
const ROUTABLE: [Target, string][] = [["user", "A user"], ["hunt_group", "A hunt group"], ["queue", "A queue"], ["auto_attendant", "An auto attendant"]];

function useTargets(tenant: string) {
  return useLoad(async () => {
    const p = { params: { path: { tenant_id: tenant }, query: { limit: 200 } } };
    const [users, hunts, queues, menus] = await Promise.all([
      ok(api.GET("/api/v1/tenants/{tenant_id}/users", p)),
      ok(api.GET("/api/v1/tenants/{tenant_id}/hunt-groups", p)),
      ok(api.GET("/api/v1/tenants/{tenant_id}/queues", p)),
      ok(api.GET("/api/v1/tenants/{tenant_id}/attendants", p)),
    ]);
    const out: Record<string, [string, string][]> = {
      user: users.items.map((u) => [u.id, `${u.extension} ${u.name}`]),
      hunt_group: hunts.items.map((g) => [g.id, `${g.extension} ${g.name}`]),
      queue: queues.items.map((q) => [q.id, `${q.extension} ${q.name}`]),
      auto_attendant: menus.items.map((m) => [m.id, `${m.extension ?? ""} ${m.name}`]),
    };
    return out;
  }, [tenant]);
}

function Routing(props: { tenant: string; number: S["NumberOut"]; targets: Record<string, [string, string][]>; done: () => void }) {
  const n = props.number;
  const [type, setType] = useState<string>(n.target_type ?? "");
  const [target, setTarget] = useState<string>(n.target_id ?? "");
  const [err, setErr] = useState<unknown>(null);
  const label = n.target_type ? props.targets[n.target_type]?.find(([id]) => id === n.target_id)?.[1] : null;
  async function save() {
    setErr(null);
    try {
      await ok(
        api.PUT("/api/v1/tenants/{tenant_id}/numbers/{number_id}/assignment", {
          params: { path: { tenant_id: props.tenant, number_id: n.id } },
          body: type ? { target_type: type as Target, target_id: target || null } : { target_type: null, target_id: null },
        }),
      );
      props.done();
    } catch (e) {
      setErr(e);
    }
  }
  return (
    <div class="inline-form" data-testid={`route-${n.e164}`}>
      <span class="muted small">{label ? `→ ${label}` : n.target_type ? `→ ${n.target_type}` : "not routed"}</span>
      <select value={type} onChange={(e) => (setType((e.target as HTMLSelectElement).value), setTarget(""))}>
        <option value="">Nowhere</option>
        {ROUTABLE.map(([v, l]) => <option value={v}>{l}</option>)}
      </select>
      {type && (
        <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
          <option value="">Choose…</option>
          {(props.targets[type] ?? []).map(([v, l]) => <option value={v}>{l}</option>)}
        </select>
      )}
      <button class="small" onClick={save} disabled={!!type && !target}>Route</button>
      {err ? <ErrorNotice error={err} /> : null}
    </div>
  );
}

function Numbers({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const targets = useTargets(tenant);
  const form = useForm({ account_name: "", account_number: "", billing_telephone_number: "", numbers: "", pin: "", requested_foc_date: "" });
  const [portErr, setPortErr] = useState<unknown>(null);
  async function submit(o: S["PortOrderOut"]) {
    setPortErr(null);
    try {
      await ok(api.POST("/api/v1/tenants/{tenant_id}/port-orders/{order_id}/submit", { params: { path: { tenant_id: tenant, order_id: o.id } } }));
      setN(n + 1);
    } catch (e) {
      setPortErr(e);
    }
  }
  if (targets.error) return <Page title="Numbers"><ErrorNotice error={targets.error} /></Page>;
  return (
    <Page title="Numbers" subtitle="Where each of your numbers rings, and numbers moving in from other carriers">
      <Card title="Your numbers">
        <PagedTable<S["NumberOut"]>
          testid="tenant-numbers"
          deps={[n, targets.data]}
          load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/numbers", { params: { path: { tenant_id: tenant }, query: { limit, offset } } }))}
          columns={[
            { title: "Number", cell: (x) => <code>{x.e164}</code> },
            { title: "Kind", cell: (x) => x.kind },
            { title: "Status", cell: (x) => <Badge tone={x.target_type ? "ok" : "warn"}>{x.status}</Badge> },
            { title: "Rings", cell: (x) => (targets.data ? <Routing tenant={tenant} number={x} targets={targets.data} done={() => setN(n + 1)} /> : "…") },
          ]}
          empty="No numbers yet: ask your provider, or port yours in below."
        />
      </Card>
      <div class="two">
        <Card title="Porting orders">
          <ErrorNotice error={portErr} />
          <PagedTable<S["PortOrderOut"]>
            deps={[n]}
            load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/port-orders", { params: { path: { tenant_id: tenant }, query: { limit, offset } } }))}
            columns={[
              { title: "Numbers", cell: (o) => o.numbers.join(", ") || "—" },
              { title: "Status", cell: (o) => <Badge>{o.status}</Badge> },
              { title: "FOC", cell: (o) => o.foc_date ?? o.requested_foc_date ?? "—" },
              { title: "Created", cell: (o) => fmt.day(o.created_at) },
              { title: "", cell: (o) => (o.status === "draft" ? <button class="small" onClick={() => submit(o)}>Submit</button> : (o.problems ?? []).join("; ")) },
            ]}
            empty="No porting orders."
          />
        </Card>
        <Card title="Port numbers in">
          <Form
            form={form}
            submit="Save draft"
            onSubmit={() =>
              form.submit(async (v) => {
                await ok(
                  api.POST("/api/v1/tenants/{tenant_id}/port-orders", {
                    params: { path: { tenant_id: tenant } },
                    body: {
                      account_name: v.account_name,
                      account_number: v.account_number,
                      billing_telephone_number: v.billing_telephone_number,
                      numbers: v.numbers.split(/[\s,]+/).filter(Boolean),
                      pin: v.pin,
                      requested_foc_date: v.requested_foc_date || null,
                    },
                  }),
                );
                setN(n + 1);
                return "Draft saved. Complete it through the API (address, LOA), then submit.";
              })
            }
          >
            <Field form={form} name="numbers" label="Numbers (E.164, comma separated)" placeholder="+12125550100, +12125550101" />
            <Field form={form} name="account_name" label="Account name at the current carrier" />
            <Field form={form} name="account_number" label="Account number" />
            <Field form={form} name="billing_telephone_number" label="Billing telephone number" />
            <Field form={form} name="pin" label="Port-out PIN" type="password" />
            <Field form={form} name="requested_foc_date" label="Wanted date" type="date" />
          </Form>
        </Card>
      </div>
    </Page>
  );
}

export const numbersRoute: RouteDef = { path: "/t/:tenant/numbers", title: "Numbers", page: Numbers };
