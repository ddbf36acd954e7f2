// Flows (issue 20 §1): the tenant's flows, and the drag-and-drop designer of one flow. The
// definition is Twilio Studio's flow JSON (FLOWS.md); the designer edits it as a graph
// (flow-graph.tsx, @xyflow/react), saves it as the draft (PUT …/draft: the API's JSON-Schema errors
// and lint warnings are shown), publishes the draft and lists the revisions. Office administrators
// and developers see it; the API (store/policy.py) decides who may.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { api, fetchBlob, ok, ApiError } from "../api/client";
import { navigate } from "../router";
import { Badge, Card, ErrorNotice, Field, Form, Link, Notice, Page, fmt, useForm, useLoad } from "../ui/kit";
import type { FlowGraph as FlowGraphT, Palette as PaletteT } from "./flow-graph";
// React Flow's style sheet joins portal.css; its code comes with flow-graph.tsx when a flow is opened.
import "@xyflow/react/dist/style.css";
import { PropertiesPanel } from "./flow-panel";
import { emptyDefinition, normalise, type Definition } from "./flow-widgets";

type Warning = { state?: string | null; problem: string; severity?: string };
/** A 422's errors: the API's usual {field, message}, or the flow schema's {path, problem}. */
type Problem = { field?: string; message?: string; path?: string; problem?: string };
// The flows API answers plain JSON objects (no response model), so their shapes are written here.
type Revision = { revision: number; status?: string; date_created?: string; warnings?: Warning[] };
type FlowSummary = { id: string; sid: string; friendly_name: string; draft_revision?: number | null; published_revision?: number | null };
type FlowView = {
  id: string;
  sid: string;
  friendly_name: string;
  draft: { revision: number; definition: unknown; warnings?: Warning[] } | null;
  published: { revision: number; definition: unknown } | null;
};
type Items<T> = { items: T[] };

const tenantPath = (tenant_id: string) => ({ path: { tenant_id } });
const flowPath = (tenant_id: string, flow_id: string) => ({ path: { tenant_id, flow_id } });

function FlowList({ params }: PageProps) {
  const tenant = params.tenant;
  const flows = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/flows", { params: tenantPath(tenant) }))) as unknown as Items<FlowSummary>, [tenant]);
  const form = useForm({ friendly_name: "" });
  const items = flows.data?.items ?? [];
  return (
    <Page title="Flows" subtitle="Call and message flows, drawn as graphs of widgets (Twilio Studio's format)">
      <div class="two">
        <Card title="Flows">
          {flows.error ? (
            <ErrorNotice error={flows.error} />
          ) : !flows.data ? (
            <p class="muted">Loading…</p>
          ) : (
            <table data-testid="flows">
              <thead>
                <tr><th>Name</th><th>SID</th><th class="num">Draft</th><th>Published</th></tr>
              </thead>
              <tbody>
                {items.length === 0 && <tr><td colSpan={4} class="muted">No flow yet.</td></tr>}
                {items.map((f) => (
                  <tr>
                    <td><Link href={`/t/${tenant}/flows/${f.id}`} testid={`flow-${f.friendly_name}`}>{f.friendly_name}</Link></td>
                    <td><code>{f.sid}</code></td>
                    <td class="num">{f.draft_revision ?? "—"}</td>
                    <td>{f.published_revision ? <Badge tone="ok">revision {f.published_revision}</Badge> : <Badge tone="warn">not published</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="New flow">
          <Form
            form={form}
            submit="Create and open"
            testid="flow-form"
            onSubmit={() =>
              form.submit(async (v) => {
                const f = (await ok(
                  api.POST("/api/v1/tenants/{tenant_id}/flows", { params: tenantPath(tenant), body: { friendly_name: v.friendly_name, definition: emptyDefinition() } }),
                )) as unknown as FlowView;
                navigate(`/t/${tenant}/flows/${f.id}`);
              })
            }
          >
            <Field form={form} name="friendly_name" label="Name" required placeholder="Support line" />
          </Form>
        </Card>
        <ImportCard tenant={tenant} />
      </div>
    </Page>
  );
}

/** Import a Twilio Studio flow export (a .json file from disk): it opens in the designer. */
function ImportCard(props: { tenant: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async (file: File) => {
    setError(null);
    setBusy(true);
    try {
      let studio: Record<string, unknown>;
      try {
        studio = JSON.parse(await file.text());
      } catch (e) {
        throw new Error(`${file.name} is not JSON: ${(e as Error).message}`);
      }
      const name = file.name.replace(/\.json$/i, "");
      const f = (await ok(
        api.POST("/api/v1/tenants/{tenant_id}/flows/import", { params: { ...tenantPath(props.tenant), query: { friendly_name: name } }, body: studio }),
      )) as unknown as FlowView;
      navigate(`/t/${props.tenant}/flows/${f.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Import from Twilio Studio">
      <p class="muted small">A flow's JSON as Studio exports it; the layout comes with it.</p>
      <ErrorNotice error={error} />
      {error instanceof ApiError && (
        <ul class="flow-errors">{((error.body?.errors ?? []) as Problem[]).map((p) => <li><code>{p.path ?? p.field}</code> {p.problem ?? p.message}</li>)}</ul>
      )}
      <input type="file" accept=".json,application/json" disabled={busy} data-testid="flow-import" onChange={(e) => {
        const file = (e.target as HTMLInputElement).files?.[0];
        if (file) void load(file);
      }} />
    </Card>
  );
}

type SaveResult = { kind: "ok" | "error"; text: string; warnings?: Warning[]; errors?: Problem[] };

function warningsByState(ws: Warning[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of ws) if (w.state) (out[w.state] ??= []).push(w.problem);
  return out;
}

type GraphModule = { FlowGraph: typeof FlowGraphT; Palette: typeof PaletteT };
let graphModule: Promise<GraphModule> | null = null;
const loadGraph = () => (graphModule ??= import("./flow-graph"));

function Designer({ params }: PageProps) {
  const { tenant, flow: flowId } = params;
  const [n, setN] = useState(0);
  const flow = useLoad(async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/flows/{flow_id}", { params: flowPath(tenant, flowId) }))) as unknown as FlowView, [tenant, flowId, n]);
  const revisions = useLoad(
    async () => (await ok(api.GET("/api/v1/tenants/{tenant_id}/flows/{flow_id}/revisions", { params: flowPath(tenant, flowId) }))) as unknown as Items<Revision>,
    [tenant, flowId, n],
  );
  const [def, setDef] = useState<Definition | null>(null);
  const [dirty, setDirty] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [warnings, setWarnings] = useState<Warning[]>([]);
  const [result, setResult] = useState<SaveResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [graph, setGraph] = useState<GraphModule | null>(null);
  useEffect(() => void loadGraph().then(setGraph), []);

  useEffect(() => {
    if (!flow.data || dirty) return;
    setDef(normalise(flow.data.draft?.definition));
    setWarnings(flow.data.draft?.warnings ?? []);
  }, [flow.data]);
  const byState = useMemo(() => warningsByState(warnings), [warnings]);
  useEffect(() => {
    if (!dirty) return;
    const stay = (e: BeforeUnloadEvent) => e.preventDefault(); // unsaved changes: the browser asks
    window.addEventListener("beforeunload", stay);
    return () => window.removeEventListener("beforeunload", stay);
  }, [dirty]);

  if (flow.error) return <Page title="Flow"><ErrorNotice error={flow.error} /></Page>;
  if (!flow.data || !def || !graph) return <p class="muted">Loading…</p>;
  const f = flow.data;
  const { FlowGraph, Palette } = graph;

  const change = (d: Definition, select?: string | null) => {
    setDef(d);
    setDirty(true);
    if (select !== undefined) setSelected(select);
  };
  const failed = (e: unknown, what: string): SaveResult => {
    if (e instanceof ApiError)
      return { kind: "error", text: `${what} refused (${e.status}): ${e.message}`, errors: (e.body?.errors ?? []) as Problem[] };
    return { kind: "error", text: `${what} failed: ${String(e)}` };
  };
  const save = async (): Promise<boolean> => {
    setResult(null);
    try {
      const r = (await ok(api.PUT("/api/v1/tenants/{tenant_id}/flows/{flow_id}/draft", { params: flowPath(tenant, flowId), body: { definition: def } }))) as unknown as {
        revision: number;
        warnings?: Warning[];
      };
      const ws = r.warnings ?? [];
      setWarnings(ws);
      setDirty(false);
      setResult({ kind: "ok", text: `Draft saved as revision ${r.revision}${ws.length ? `, with ${ws.length} warning${ws.length > 1 ? "s" : ""}` : ", no warnings"}.`, warnings: ws });
      return true;
    } catch (e) {
      setResult(failed(e, "Saving"));
      return false;
    }
  };
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await f();
    } finally {
      setBusy(false);
      setN((x) => x + 1);
    }
  };
  const publish = async () => {
    if (dirty && !(await save())) return;
    try {
      const r = (await ok(api.POST("/api/v1/tenants/{tenant_id}/flows/{flow_id}/publish", { params: flowPath(tenant, flowId) }))) as unknown as { revision: number };
      setResult({ kind: "ok", text: `Revision ${r.revision} published: it is the one that runs.` });
    } catch (e) {
      setResult(failed(e, "Publishing"));
    }
  };
  // Studio's flow JSON of the saved draft (offsets kept): what Studio's import takes.
  const exportJson = async () => {
    try {
      const blob = await fetchBlob(`/api/v1/tenants/${tenant}/flows/${flowId}/export`);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `${f.friendly_name.replace(/[^A-Za-z0-9_-]+/g, "_")}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      setResult(failed(e, "Export"));
    }
  };
  const revs = [...(revisions.data?.items ?? [])].reverse(); // the newest first

  return (
    <Page
      title={f.friendly_name}
      subtitle={`${f.sid} · draft revision ${f.draft?.revision ?? "—"} · ${f.published ? `published revision ${f.published.revision}` : "not published"}`}
      actions={
        <>
          <Link href={`/t/${tenant}/flows`}>All flows</Link>{" "}
          <button type="button" class="ghost" data-testid="flow-export" onClick={() => run(exportJson)}>Export JSON</button>{" "}
          <button type="button" class="ghost" disabled={busy} data-testid="flow-save" onClick={() => run(save)}>{dirty ? "Save draft *" : "Save draft"}</button>{" "}
          <button type="button" disabled={busy} data-testid="flow-publish" onClick={() => run(publish)}>Publish</button>
        </>
      }
    >
      {result && (
        <div data-testid="flow-result">
          <Notice kind={result.kind}>
            {result.text}
            {result.errors && result.errors.length > 0 && (
              <ul class="flow-errors">{result.errors.map((e) => <li><code>{e.path ?? e.field}</code> {e.problem ?? e.message}</li>)}</ul>
            )}
            {result.warnings && result.warnings.length > 0 && (
              <ul class="flow-errors" data-testid="flow-warnings">{result.warnings.map((w) => <li>{w.severity === "error" ? <Badge tone="bad">error</Badge> : null} {w.state ? <code>{w.state}</code> : null} {w.problem}</li>)}</ul>
            )}
          </Notice>
        </div>
      )}
      <div class="flow-designer">
        <Card class="flow-side" title="Widgets">
          <Palette definition={def} onAdd={(d, name) => change(d, name)} />
          <p class="muted small">Drag a widget onto the canvas (or click it). Drag from a port under a widget to another widget to connect that transition; Delete removes the selection.</p>
        </Card>
        <div class="flow-main">
          <FlowGraph definition={def} warnings={byState} selected={selected} onChange={(d) => change(d)} onSelect={setSelected} />
        </div>
        <Card class="flow-side" title="Properties">
          <PropertiesPanel definition={def} name={selected} warnings={selected ? byState[selected] ?? [] : []} onChange={change} />
        </Card>
      </div>
      <Card title="Revisions">
        {revisions.error ? (
          <ErrorNotice error={revisions.error} />
        ) : (
          <table data-testid="flow-revisions">
            <thead><tr><th class="num">Revision</th><th>Status</th><th>Saved</th><th>Warnings</th></tr></thead>
            <tbody>
              {revs.map((r) => (
                <tr>
                  <td class="num">{r.revision}</td>
                  <td><Badge tone={r.status === "published" ? "ok" : r.status === "draft" ? "info" : "warn"}>{r.status ?? "—"}</Badge></td>
                  <td>{fmt.date(r.date_created)}</td>
                  <td>{r.warnings?.length ? r.warnings.map((w) => `${w.state ?? ""}: ${w.problem}`).join("; ") : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </Page>
  );
}

export const flowRoutes: RouteDef[] = [
  { path: "/t/:tenant/flows", title: "Flows", page: FlowList },
  { path: "/t/:tenant/flows/:flow", title: "Flow", page: Designer, nav: false },
];
