// What the campaign pages share (docs/campaigns.md): the shapes the campaign routes answer, the
// request paths, the reasons a contact was not reached with their labels, a campaign's state tone,
// and polling while a campaign is live. It imports none of the other campaign modules.
import { useEffect } from "preact/hooks";

// The campaign routes answer plain JSON objects (no response model): their shapes, as
// api/routers/campaigns.py, campaign_compliance.py and cpaas/campaigns/report.py write them.
export type Campaign = {
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
export type Report = {
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
export type ContactList = { id: string; name: string; description: string; contacts?: number };
export type Contact = { id: string; number: string; name: string; state: string | null; time_zones: string[]; location_source: string; attributes: Record<string, string> };
export type NewContact = { number: string; name?: string; state?: string; time_zone?: string; attributes?: Record<string, string> };
export type Consent = { id: string; number: string; name: string; channel: string; purpose: string; granted: boolean; obtained_at: string; method: string; evidence: string; recorded_by: string };
export type Dnc = { id?: string; number: string; reason: string; added_by: string; added_at: string };
export type Recipient = { id?: string; number: string; status: string; reason: string | null; detail: string | null; not_before: string | null; deferrals: number; message_sid: string | null; call_sid: string | null; sent_at: string | null };

export const tenantPath = (tenant_id: string) => ({ path: { tenant_id } });
export const campaignPath = (tenant_id: string, campaign_id: string) => ({ path: { tenant_id, campaign_id } });
export const listPath = (tenant_id: string, list_id: string) => ({ path: { tenant_id, list_id } });
export const base = (tenant: string) => `/t/${tenant}/campaigns`;

// Why a contact was not reached: the scrub's reasons (cpaas/campaigns/scrub.py) and the runner's.
export const REASONS: Record<string, [string, string]> = {
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
export const reasonLabel = (r: string) => REASONS[r]?.[0] ?? r.replace(/_/g, " ");
export const STATUS_TONE: Record<string, "ok" | "warn" | "bad" | "info"> = { scheduled: "info", running: "warn", completed: "ok", canceled: "bad" };
export const ACTIVE = new Set(["scheduled", "running"]);

export function ReasonCounts(props: { counts: Record<string, number>; testid?: string }) {
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
export function useRefresh(on: boolean, reload: () => void, ms = 1500) {
  useEffect(() => {
    if (!on) return;
    const h = setInterval(reload, ms);
    return () => clearInterval(h);
  }, [on]);
}
