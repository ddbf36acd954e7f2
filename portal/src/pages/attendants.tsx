// The auto attendant's menu editor (issue 18 §2, office admin): its digit options (add, change,
// remove) and its schedule (business hours per weekday, holidays, and the menus callers get after
// hours and on holidays), saved with one PATCH /attendants/{id} that replaces both. The API checks
// every destination against the tenant's own data; its message is shown on top and under the row.
import { useEffect, useState } from "preact/hooks";
import type { PageProps } from "../app";
import { api, ApiError, ok } from "../api/client";
import type { components } from "../api/schema";
import { Card, ErrorNotice, Link, Notice, Page, useLoad } from "../ui/kit";

type S = components["schemas"];
type Action = S["AttendantAction"];
type Opt = { digit: string; action: Action; target: string; label: string };
type Hours = { weekday: number; opens: string; closes: string };
type Holiday = { day: string; name: string };

const path = (tenant_id: string) => ({ path: { tenant_id } });
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"];
const ACTIONS: [Action, string][] = [
  ["extension", "Ring an extension"],
  ["hunt_group", "Ring a hunt group"],
  ["voicemail", "Voicemail of"],
  ["sub_menu", "Another menu"],
  ["dial_by_name", "Dial by name"],
  ["operator", "The operator"],
  ["repeat", "Repeat the menu"],
];
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const needsTarget = (a: Action) => ["extension", "hunt_group", "voicemail", "sub_menu"].includes(a);
const hhmm = (t: string) => t.slice(0, 5);

export function AttendantEditor({ params }: PageProps) {
  const tenant = params.tenant;
  const menu = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/attendants/{menu_id}", { params: { path: { tenant_id: tenant, menu_id: params.menu } } })), [tenant, params.menu]);
  const menus = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/attendants", { params: { ...path(tenant), query: { limit: 200 } } })), [tenant]);
  const users = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/users", { params: { ...path(tenant), query: { limit: 200 } } })), [tenant]);
  const groups = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/hunt-groups", { params: { ...path(tenant), query: { limit: 200 } } })), [tenant]);

  const [options, setOptions] = useState<Opt[]>([]);
  const [scheduled, setScheduled] = useState(false);
  const [zone, setZone] = useState("America/Chicago");
  const [afterHours, setAfterHours] = useState("");
  const [holidayMenu, setHolidayMenu] = useState("");
  const [hours, setHours] = useState<Hours[]>([]);
  const [holidays, setHolidays] = useState<Holiday[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  function load(m: S["MenuOut"]) {
    setOptions(m.options.map((o) => ({ digit: o.digit, action: o.action, target: o.target ?? "", label: o.label ?? "" })));
    setScheduled(!!m.schedule);
    if (m.schedule) {
      setZone(m.schedule.time_zone);
      setAfterHours(m.schedule.after_hours_menu_id);
      setHolidayMenu(m.schedule.holiday_menu_id ?? "");
      setHours(m.schedule.hours.map((h) => ({ weekday: h.weekday, opens: hhmm(h.opens), closes: hhmm(h.closes) })));
      setHolidays(m.schedule.holidays.map((h) => ({ day: h.day, name: h.name ?? "" })));
    }
  }
  // The editor appears only once its state holds the stored menu: drawn earlier, an option added
  // before the effect ran would be wiped when it did (what the user did, silently undone).
  const [loaded, setLoaded] = useState<S["MenuOut"] | null>(null);
  useEffect(() => {
    if (menu.data) {
      load(menu.data);
      setLoaded(menu.data);
    }
  }, [menu.data]);

  if (menu.error) return <Page title="Not found"><ErrorNotice error={menu.error} /></Page>;
  if (!menu.data || loaded !== menu.data) return <p class="muted">Loading…</p>;
  const m = menu.data;
  const others = (menus.data?.items ?? []).filter((x) => x.id !== m.id);
  const fields = error instanceof ApiError ? error.fields() : {};
  const set = (i: number, patch: Partial<Opt>) => setOptions(options.map((o, j) => (j === i ? { ...o, ...patch } : o)));
  const free = KEYS.filter((k) => !options.some((o) => o.digit === k));

  function targetInput(o: Opt, i: number) {
    const onChange = (e: Event) => set(i, { target: (e.target as HTMLSelectElement).value });
    const pick = (choices: [string, string][]) => (
      <select name={`options.${i}.target`} aria-label={`target of key ${o.digit}`} value={o.target} onChange={onChange}>
        <option value="">— choose —</option>
        {choices.map(([v, l]) => <option value={v}>{l}</option>)}
      </select>
    );
    if (o.action === "extension") return pick((users.data?.items ?? []).map((u) => [u.extension, `${u.extension} ${u.name}`]));
    if (o.action === "hunt_group") return pick((groups.data?.items ?? []).map((g) => [g.extension ?? "", `${g.extension ?? ""} ${g.name}`]));
    if (o.action === "voicemail") return pick((users.data?.items ?? []).map((u) => [u.id, `${u.extension} ${u.name}`]));
    if (o.action === "sub_menu") return pick(others.map((x) => [x.id, x.name]));
    if (o.action === "operator")
      return <input name={`options.${i}.target`} aria-label={`target of key ${o.digit}`} placeholder={m.operator_extension ?? "extension"} value={o.target} onInput={onChange} />;
    return <span class="muted">—</span>;
  }

  async function save() {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const body: S["MenuPatch"] = {
        options: options.map((o) => ({ digit: o.digit, action: o.action, target: o.target || null, label: o.label || null })),
        schedule: scheduled
          ? {
              time_zone: zone,
              after_hours_menu_id: afterHours,
              holiday_menu_id: holidayMenu || null,
              hours: hours.map((h) => ({ weekday: h.weekday, opens: h.opens, closes: h.closes })),
              holidays: holidays.map((h) => ({ day: h.day, name: h.name })),
            }
          : null,
      };
      if (scheduled && !afterHours) throw new Error("Choose the menu callers get after hours.");
      const out = await ok(api.PATCH("/api/v1/tenants/{tenant_id}/attendants/{menu_id}", { params: { path: { tenant_id: tenant, menu_id: m.id } }, body }));
      load(out);
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page
      title={`Menu: ${m.name}`}
      subtitle={`${m.extension ? `Extension ${m.extension} · ` : ""}${m.greeting_text ?? "no spoken greeting"}`}
      actions={<Link href={`/t/${tenant}/attendants`} class="button ghost">All menus</Link>}
    >
      {saved && <Notice kind="ok">Saved: {options.length} options{scheduled ? ", business hours on" : ""}.</Notice>}
      <ErrorNotice error={error} />
      <Card title="Keys callers press">
        <table data-testid="aa-options">
          <thead><tr><th>Key</th><th>Does</th><th>Where</th><th>Said as "For …, press"</th><th></th></tr></thead>
          <tbody>
            {options.length === 0 && <tr><td colSpan={5} class="muted">No options: callers hear the greeting, then the time-out action.</td></tr>}
            {options.map((o, i) => (
              <tr data-digit={o.digit}>
                <td>
                  <select name={`options.${i}.digit`} aria-label="key" value={o.digit} onChange={(e) => set(i, { digit: (e.target as HTMLSelectElement).value })}>
                    {[o.digit, ...free].map((k) => <option value={k}>{k}</option>)}
                  </select>
                </td>
                <td>
                  <select name={`options.${i}.action`} aria-label={`action of key ${o.digit}`} value={o.action} onChange={(e) => set(i, { action: (e.target as HTMLSelectElement).value as Action, target: "" })}>
                    {ACTIONS.map(([v, l]) => <option value={v}>{l}</option>)}
                  </select>
                </td>
                <td class={fields[`options.${i}.target`] ? "invalid" : ""}>
                  {targetInput(o, i)}
                  {fields[`options.${i}.target`] && <div><small class="error-text">{fields[`options.${i}.target`]}</small></div>}
                  {needsTarget(o.action) && !o.target && <div><small class="muted">needed</small></div>}
                </td>
                <td><input name={`options.${i}.label`} aria-label={`label of key ${o.digit}`} value={o.label} placeholder="sales" onInput={(e) => set(i, { label: (e.target as HTMLInputElement).value })} /></td>
                <td><button type="button" class="ghost" onClick={() => setOptions(options.filter((_, j) => j !== i))}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        {fields.options && <small class="error-text">{fields.options}</small>}
        <p>
          <button type="button" class="ghost" disabled={free.length === 0} onClick={() => setOptions([...options, { digit: free[0], action: "extension", target: "", label: "" }])}>
            + Add an option
          </button>
        </p>
      </Card>
      <Card title="Schedule">
        <label class="check">
          <input type="checkbox" name="scheduled" checked={scheduled} onChange={(e) => setScheduled((e.target as HTMLInputElement).checked)} />
          Business hours: outside them (and on holidays) callers get another menu
        </label>
        {scheduled && (
          <div data-testid="aa-schedule">
            <div class="grid">
              <div class={`field ${fields["schedule.time_zone"] ? "invalid" : ""}`}>
                <label for="f-zone">Time zone</label>
                <input id="f-zone" name="time_zone" value={zone} onInput={(e) => setZone((e.target as HTMLInputElement).value)} />
                {fields["schedule.time_zone"] && <small class="error-text">{fields["schedule.time_zone"]}</small>}
              </div>
              <div class="field">
                <label for="f-after">After hours</label>
                <select id="f-after" name="after_hours_menu_id" value={afterHours} onChange={(e) => setAfterHours((e.target as HTMLSelectElement).value)}>
                  <option value="">— choose a menu —</option>
                  {others.map((x) => <option value={x.id}>{x.name}</option>)}
                </select>
              </div>
              <div class="field">
                <label for="f-holiday-menu">On holidays</label>
                <select id="f-holiday-menu" name="holiday_menu_id" value={holidayMenu} onChange={(e) => setHolidayMenu((e.target as HTMLSelectElement).value)}>
                  <option value="">the after-hours menu</option>
                  {others.map((x) => <option value={x.id}>{x.name}</option>)}
                </select>
              </div>
            </div>
            <h3>Open</h3>
            <table data-testid="aa-hours">
              <tbody>
                {hours.map((h, i) => (
                  <tr>
                    <td>
                      <select aria-label="weekday" value={String(h.weekday)} onChange={(e) => setHours(hours.map((x, j) => (j === i ? { ...x, weekday: Number((e.target as HTMLSelectElement).value) } : x)))}>
                        {WEEKDAYS.map((d, n) => <option value={String(n)}>{d}</option>)}
                      </select>
                    </td>
                    <td><input type="time" aria-label="opens" value={h.opens} onInput={(e) => setHours(hours.map((x, j) => (j === i ? { ...x, opens: (e.target as HTMLInputElement).value } : x)))} /></td>
                    <td><input type="time" aria-label="closes" value={h.closes} onInput={(e) => setHours(hours.map((x, j) => (j === i ? { ...x, closes: (e.target as HTMLInputElement).value } : x)))} />
                      {fields[`schedule.hours.${i}.closes`] && <div><small class="error-text">{fields[`schedule.hours.${i}.closes`]}</small></div>}
                    </td>
                    <td><button type="button" class="ghost" onClick={() => setHours(hours.filter((_, j) => j !== i))}>Remove</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p>
              <button type="button" class="ghost" onClick={() => setHours([...hours, { weekday: hours.length % 7, opens: "09:00", closes: "17:00" }])}>+ Add opening hours</button>{" "}
              <button type="button" class="ghost" onClick={() => setHours([0, 1, 2, 3, 4].map((d) => ({ weekday: d, opens: "09:00", closes: "17:00" })))}>Weekdays 9–5</button>
            </p>
            <h3>Holidays</h3>
            <table data-testid="aa-holidays">
              <tbody>
                {holidays.map((h, i) => (
                  <tr>
                    <td><input type="date" aria-label="holiday" value={h.day} onInput={(e) => setHolidays(holidays.map((x, j) => (j === i ? { ...x, day: (e.target as HTMLInputElement).value } : x)))} /></td>
                    <td><input aria-label="holiday name" value={h.name} placeholder="New Year's Day" onInput={(e) => setHolidays(holidays.map((x, j) => (j === i ? { ...x, name: (e.target as HTMLInputElement).value } : x)))} /></td>
                    <td><button type="button" class="ghost" onClick={() => setHolidays(holidays.filter((_, j) => j !== i))}>Remove</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {fields["schedule.holidays"] && <small class="error-text">{fields["schedule.holidays"]}</small>}
            <p><button type="button" class="ghost" onClick={() => setHolidays([...holidays, { day: "", name: "" }])}>+ Add a holiday</button></p>
          </div>
        )}
      </Card>
      <div class="form-actions">
        <button type="button" data-testid="aa-save" disabled={busy} onClick={save}>{busy ? "Saving…" : "Save menu"}</button>
      </div>
    </Page>
  );
}
