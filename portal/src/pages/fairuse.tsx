// Fair use (issue 18 §2, office admin; issue 15 §2): what src/centrex/fairuse records about the
// tenant's use of its voice bundles — each finding with its evidence and where it stands (noticed,
// cured, re-rated with the adjustment, flagged for termination). Beside Capacity in the office's
// navigation; the operator reaches it inside a tenant.
import type { PageProps } from "../app";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Badge, Card, ErrorNotice, Page, fmt, useLoad } from "../ui/kit";

type Finding = components["schemas"]["FindingOut"];

const STATES: Record<string, { tone: "ok" | "warn" | "bad" | "info"; text: string }> = {
  noticed: { tone: "warn", text: "Noticed: the tenant was told and may cure it within the next cycle" },
  cured: { tone: "ok", text: "Cured: use came back within the bundle's terms" },
  rerated: { tone: "bad", text: "Re-rated: the affected cycles were charged at the standard rates" },
  termination: { tone: "bad", text: "Flagged for termination of the bundle" },
};

// src/centrex/fairuse/detectors.py Kind, with the clause of voice-bundles.txt each one watches.
const KINDS: Record<string, string> = {
  autodialer: "Auto-dialer pattern (§3.2(i)(a))",
  toll_free_share: "Toll-free over 10% of minutes (§3.2(iv))",
  destination_spread: "Calls concentrated on one carrier type (§3.2(ii))",
  shared_line: "One line shared by several people (§3.2(v))",
  aggregation: "Several sites' traffic through one (§V.2)",
};

function Evidence(props: { evidence: Record<string, unknown> }) {
  const entries = Object.entries(props.evidence ?? {});
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <dl class="evidence" style={{ margin: 0 }}>
      {entries.map(([k, v]) => (
        <div><dt style={{ display: "inline", fontWeight: 600 }}>{k.replace(/_/g, " ")}:</dt> <dd style={{ display: "inline", margin: 0 }}>{typeof v === "object" ? JSON.stringify(v) : String(v)}</dd></div>
      ))}
    </dl>
  );
}

export function FairUse({ params }: PageProps) {
  const tenant = params.tenant;
  const findings = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/fair-use/findings", { params: { path: { tenant_id: tenant } } })), [tenant]);
  const rows: Finding[] = findings.data ?? [];
  const open = rows.filter((f) => f.state === "noticed" || f.state === "termination").length;
  return (
    <Page title="Fair use" subtitle="How the voice bundles are used: findings, their evidence and where they stand">
      {findings.error ? (
        <ErrorNotice error={findings.error} />
      ) : (
        <>
          <div class="stats" data-testid="fair-use-summary">
            <div class="stat"><span class="value" data-testid="fair-use-count">{rows.length}</span><span class="label">findings</span></div>
            <div class="stat"><span class="value" data-testid="fair-use-open">{open}</span><span class="label">open</span></div>
            <div class="stat"><span class="value">{fmt.money(rows.reduce((a, f) => a + Number(f.adjustment ?? 0), 0))}</span><span class="label">re-rated</span></div>
          </div>
          <Card title="Findings">
            <table data-testid="fair-use">
              <thead><tr><th>Noticed</th><th>What</th><th>About</th><th>State</th><th>Cycles</th><th>Evidence</th><th class="num">Adjustment</th></tr></thead>
              <tbody>
                {findings.data && rows.length === 0 && (
                  <tr><td colSpan={7} class="muted">No findings: the bundles are used within their terms.</td></tr>
                )}
                {rows.map((f) => (
                  <tr data-state={f.state}>
                    <td>{f.noticed_cycle}</td>
                    <td>{KINDS[f.kind] ?? f.kind}</td>
                    <td>{f.subject}</td>
                    <td title={STATES[f.state]?.text}><Badge tone={STATES[f.state]?.tone ?? "info"}>{f.state}</Badge></td>
                    <td>{f.cycles.join(", ")}</td>
                    <td><Evidence evidence={f.evidence as Record<string, unknown>} /></td>
                    <td class="num">{f.adjustment != null ? fmt.money(f.adjustment) : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <p class="muted small">
            The findings come from the review of each billing cycle (voice-bundles.txt §3.2, §3.3). A noticed finding is cured when the next cycle is within the
            terms; otherwise the affected cycles are re-rated.
          </p>
        </>
      )}
    </Page>
  );
}
