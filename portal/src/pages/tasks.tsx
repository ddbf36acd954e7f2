// Operator tasks with progress (issue 18 §2): a rate-deck import and a billing run start a task on
// the server (POST /rate-decks/imports, POST /billing/runs: 202 at once) which this page polls
// (GET /tasks/{id}, every 300 ms) until it is done, showing how far it is and then its result, or the
// API's problem (a bad deck's line and field) when it failed.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, ok } from "../api/client";
import type { components } from "../api/schema";
import { Badge, Card, ErrorNotice, Notice, fmt } from "../ui/kit";

type S = components["schemas"];
export type Task = S["TaskOut"];

const PHASES: Record<string, string> = {
  queued: "Starting",
  reading: "Reading the CSV",
  storing: "Storing the rows",
  invoicing: "Invoicing tenants",
  done: "Done",
  failed: "Failed",
};

/** Poll a task until it ends; `onEnd` once, with its last state. */
export function useTask(first: Task | null, onEnd?: (t: Task) => void): Task | null {
  const [task, setTask] = useState<Task | null>(first);
  useEffect(() => {
    setTask(first);
    if (!first || first.status !== "running") return;
    let live = true;
    let timer = 0;
    const tick = async () => {
      try {
        const t = await ok(api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id: first.id } } }));
        if (!live) return;
        setTask(t);
        if (t.status === "running") timer = window.setTimeout(tick, 300);
        else onEnd?.(t);
      } catch {
        if (live) timer = window.setTimeout(tick, 1000);
      }
    };
    timer = window.setTimeout(tick, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [first?.id]);
  return task;
}

/** Where a task stands: a progress bar while it runs, then what it did or why it failed. */
export function TaskProgress(props: { task: Task | null; result?: (t: Task) => ComponentChildren }) {
  const t = props.task;
  if (!t) return null;
  const pct = t.total ? Math.min(100, Math.round((100 * t.done) / t.total)) : null;
  return (
    <div class="task" data-testid="task" data-id={t.id} data-status={t.status} data-phase={t.phase} data-done={t.done} data-total={t.total ?? ""}>
      {t.status === "running" && (
        <div>
          <div style={{ display: "flex", justifyContent: "space-between", gap: "8px" }}>
            <span>{PHASES[t.phase] ?? t.phase}…</span>
            <span class="muted" data-testid="task-count">
              {t.total != null ? `${t.done.toLocaleString()} of ${t.total.toLocaleString()}` : `${t.done.toLocaleString()}`}
            </span>
          </div>
          <progress style={{ width: "100%" }} max={100} value={pct ?? undefined} aria-label="progress" />
        </div>
      )}
      {t.status === "done" && <Notice kind="ok">{props.result ? props.result(t) : "Done."}</Notice>}
      {t.status === "failed" && (
        <Notice kind="error">
          {t.error?.message ?? "Failed."}
          {t.error?.field && <div><small>at <strong data-testid="task-error-field">{t.error.field}</strong></small></div>}
        </Notice>
      )}
    </div>
  );
}

/** The rate-deck import card: a file from disk, imported as a task with progress. */
export function DeckImportCard(props: { onImported: () => void }) {
  const [name, setName] = useState("");
  const [csv, setCsv] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState<Task | null>(null);
  const task = useTask(started, (t) => t.status === "done" && props.onImported());
  const running = task?.status === "running";
  async function start(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      setStarted(
        await ok(
          api.POST("/api/v1/rate-decks/imports", {
            params: { query: { name } },
            body: csv as never,
            bodySerializer: (b: unknown) => b as string,
            headers: { "Content-Type": "text/csv" },
          }),
        ),
      );
    } catch (err) {
      setError(err);
    }
  }
  const fields = error instanceof ApiError ? error.fields() : {};
  return (
    <Card title="Import a deck (CSV)">
      <form class="form" onSubmit={start} data-testid="deck-import">
        <ErrorNotice error={error} />
        <div class="grid">
          <div class={`field ${fields.name ? "invalid" : ""}`}>
            <label for="f-deck-name">Deck name<span class="req">*</span></label>
            <input id="f-deck-name" name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            {fields.name && <small class="error-text">{fields.name}</small>}
          </div>
          <div class="field wide">
            <label for="f-csv">CSV file</label>
            <input
              id="f-csv"
              type="file"
              accept=".csv,text/csv"
              onChange={async (e) => {
                const f = (e.target as HTMLInputElement).files?.[0];
                setCsv(f ? await f.text() : "");
              }}
            />
            <small class="muted">Columns: prefix, rate_per_minute, effective_from [, destination, connection_fee, minimum_s, increment_s, effective_to]</small>
          </div>
        </div>
        <div class="form-actions">
          <button type="submit" disabled={running || !csv}>{running ? "Importing…" : "Import"}</button>
        </div>
      </form>
      <TaskProgress
        task={task}
        result={(t) => {
          const r = t.result as { rows?: number; name?: string; version?: number } | null;
          return <>Imported {r?.rows?.toLocaleString()} rows into <strong>{r?.name}</strong> (version {r?.version}).</>;
        }}
      />
    </Card>
  );
}

type RunRow = { tenant: string; month?: string; invoice?: string; total?: string; result: string };

/** The billing run of a month for every tenant with a plan (the scheduler's job), with progress. */
export function BillingRunCard(props: { onDone?: () => void }) {
  const last = new Date();
  last.setUTCDate(1);
  last.setUTCMonth(last.getUTCMonth() - 1);
  const [period, setPeriod] = useState(last.toISOString().slice(0, 7));
  const [dryRun, setDryRun] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState<Task | null>(null);
  const task = useTask(started, () => props.onDone?.());
  const running = task?.status === "running";
  const fields = error instanceof ApiError ? error.fields() : {};
  return (
    <Card title="Billing run: every tenant">
      <form
        class="form"
        data-testid="billing-run"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            setStarted(await ok(api.POST("/api/v1/billing/runs", { body: { period, dry_run: dryRun } })));
          } catch (err) {
            setError(err);
          }
        }}
      >
        <ErrorNotice error={error} />
        <div class="grid">
          <div class={`field ${fields.period ? "invalid" : ""}`}>
            <label for="f-run-period">Usage month (YYYY-MM)</label>
            <input id="f-run-period" name="period" value={period} onInput={(e) => setPeriod((e.target as HTMLInputElement).value)} />
            {fields.period && <small class="error-text">{fields.period}</small>}
          </div>
          <label class="check">
            <input type="checkbox" name="dry_run" checked={dryRun} onChange={(e) => setDryRun((e.target as HTMLInputElement).checked)} />
            Dry run (show what would be issued, keep nothing)
          </label>
        </div>
        <div class="form-actions">
          <button type="submit" disabled={running}>{running ? "Running…" : "Run billing"}</button>
        </div>
      </form>
      <p class="muted small">Closes the month for each tenant with a billing plan: the invoice dated the 1st of the next month. A month already invoiced is skipped.</p>
      <TaskProgress
        task={task}
        result={(t) => {
          const r = t.result as { summary?: string; rows?: RunRow[] } | null;
          return (
            <>
              <strong data-testid="billing-run-summary">{r?.summary}</strong>
              <table data-testid="billing-run-rows">
                <thead><tr><th>Tenant</th><th>Invoice</th><th class="num">Total</th><th>Result</th></tr></thead>
                <tbody>
                  {(r?.rows ?? []).map((row) => (
                    <tr>
                      <td>{row.tenant}</td>
                      <td>{row.invoice ?? "—"}</td>
                      <td class="num">{row.total ? fmt.money(row.total) : "—"}</td>
                      <td>{row.result.startsWith("issued") ? <Badge tone="ok">{row.result}</Badge> : row.result}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      />
    </Card>
  );
}
