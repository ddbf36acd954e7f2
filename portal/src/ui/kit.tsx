// The portal's building blocks: page frame, paged table, form fields that show the API's own
// error messages, notices and buttons.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { onLinkClick } from "../router";

export function Link(props: { href: string; class?: string; children: ComponentChildren; testid?: string }) {
  return (
    <a href={props.href} class={props.class} data-testid={props.testid} onClick={(e) => onLinkClick(e as MouseEvent, props.href)}>
      {props.children}
    </a>
  );
}

export function Page(props: { title: string; subtitle?: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Centrex`;
  }, [props.title]);
  return (
    <section class="page">
      <header class="page-head">
        <div>
          <h1>{props.title}</h1>
          {props.subtitle && <p class="muted">{props.subtitle}</p>}
        </div>
        <div class="actions">{props.actions}</div>
      </header>
      {props.children}
    </section>
  );
}

export function Card(props: { title?: string; children: ComponentChildren; class?: string }) {
  return (
    <div class={`card ${props.class ?? ""}`}>
      {props.title && <h2>{props.title}</h2>}
      {props.children}
    </div>
  );
}

export function Notice(props: { kind?: "error" | "ok" | "info"; children: ComponentChildren }) {
  return (
    <div class={`notice ${props.kind ?? "info"}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.status === 404)
    return <Notice kind="error"><strong>Not found.</strong> {error.message}</Notice>;
  if (error instanceof ApiError && error.status === 403)
    return <Notice kind="error"><strong>Not allowed.</strong> {error.message}</Notice>;
  return <Notice kind="error">{error instanceof Error ? error.message : String(error)}</Notice>;
}

/** Load something once (and again when `deps` change or `reload()` is called). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then(
      (d) => live && setData(d),
      (e) => live && (setError(e), setData(null)),
    );
    return () => void (live = false);
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data, error, reload };
}

export type Paged<T> = { items: T[]; total: number; limit: number; offset: number };
export type Column<T> = { title: string; cell: (row: T) => ComponentChildren; class?: string };

/** A table over a paged list endpoint (`limit`/`offset`), with previous/next. */
export function PagedTable<T extends { id?: string }>(props: {
  load: (limit: number, offset: number) => Promise<Paged<T>>;
  columns: Column<T>[];
  pageSize?: number;
  deps?: unknown[];
  empty?: string;
  testid?: string;
}) {
  const size = props.pageSize ?? 20;
  const [offset, setOffset] = useState(0);
  const { data, error } = useLoad(() => props.load(size, offset), [offset, ...(props.deps ?? [])]);
  if (error) return <ErrorNotice error={error} />;
  if (!data) return <p class="muted">Loading…</p>;
  const last = Math.min(data.total, offset + data.items.length);
  return (
    <div class="table-wrap" data-testid={props.testid}>
      <table>
        <thead>
          <tr>{props.columns.map((c) => <th class={c.class}>{c.title}</th>)}</tr>
        </thead>
        <tbody>
          {data.items.length === 0 && (
            <tr><td colSpan={props.columns.length} class="muted">{props.empty ?? "Nothing here yet."}</td></tr>
          )}
          {data.items.map((row, i) => (
            <tr key={row.id ?? i}>{props.columns.map((c) => <td class={c.class}>{c.cell(row)}</td>)}</tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <span class="muted">{data.total === 0 ? "0" : `${offset + 1}–${last}`} of {data.total}</span>
        <button class="ghost" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - size))}>‹ Previous</button>
        <button class="ghost" disabled={last >= data.total} onClick={() => setOffset(offset + size)}>Next ›</button>
      </div>
    </div>
  );
}

/** A form whose submit shows the API's error body: the message on top, each field's under it. */
export function useForm<V extends Record<string, any>>(initial: V) {
  const [values, setValues] = useState<V>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ kind: "error" | "ok"; text: ComponentChildren } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: unknown) => setValues((v) => ({ ...v, [name]: value }));
  async function submit(run: (v: V) => Promise<ComponentChildren | void>, reset = true) {
    setBusy(true);
    setErrors({});
    setMessage(null);
    try {
      const done = await run(values);
      if (reset) setValues(initial);
      if (done) setMessage({ kind: "ok", text: done });
    } catch (e) {
      if (e instanceof ApiError) {
        setErrors(e.fields());
        setMessage({ kind: "error", text: e.message });
      } else setMessage({ kind: "error", text: String(e) });
    } finally {
      setBusy(false);
    }
  }
  return { values, set, errors, message, busy, submit, setValues };
}

type FormApi = {
  values: Record<string, any>;
  set: (name: string, value: unknown) => void;
  errors: Record<string, string>;
  message: { kind: "error" | "ok"; text: ComponentChildren } | null;
  busy: boolean;
};

export function Field(props: {
  form: FormApi;
  name: string;
  label: string;
  type?: string;
  placeholder?: string;
  hint?: string;
  required?: boolean;
  errorKey?: string;
}) {
  const { form, name } = props;
  const err = form.errors[props.errorKey ?? name];
  const id = `f-${name}`;
  if (props.type === "checkbox")
    return (
      <label class="check">
        <input type="checkbox" name={name} checked={!!form.values[name]} onChange={(e) => form.set(name, (e.target as HTMLInputElement).checked)} />
        {props.label}
      </label>
    );
  return (
    <div class={`field ${err ? "invalid" : ""}`}>
      <label for={id}>{props.label}{props.required && <span class="req">*</span>}</label>
      <input
        id={id}
        name={name}
        type={(props.type ?? "text") as "text"}
        placeholder={props.placeholder}
        value={form.values[name] ?? ""}
        onInput={(e) => form.set(name, (e.target as HTMLInputElement).value)}
        aria-invalid={err ? "true" : undefined}
      />
      {err ? <small class="error-text">{err}</small> : props.hint && <small class="muted">{props.hint}</small>}
    </div>
  );
}

/** A multi-line field (a message, a list pasted in), with the API's error under it like Field. */
export function TextArea(props: { form: FormApi; name: string; label: string; rows?: number; placeholder?: string; hint?: string; required?: boolean }) {
  const { form, name } = props;
  const err = form.errors[name];
  const id = `f-${name}`;
  return (
    <div class={`field ${err ? "invalid" : ""}`}>
      <label for={id}>{props.label}{props.required && <span class="req">*</span>}</label>
      <textarea
        id={id}
        name={name}
        rows={props.rows ?? 3}
        placeholder={props.placeholder}
        value={form.values[name] ?? ""}
        onInput={(e) => form.set(name, (e.target as HTMLTextAreaElement).value)}
        aria-invalid={err ? "true" : undefined}
      />
      {err ? <small class="error-text">{err}</small> : props.hint && <small class="muted">{props.hint}</small>}
    </div>
  );
}

export function Select(props: {
  form: FormApi;
  name: string;
  label: string;
  options: [string, string][];
  multiple?: boolean;
}) {
  const { form, name } = props;
  const err = form.errors[name];
  return (
    <div class={`field ${err ? "invalid" : ""}`}>
      <label for={`f-${name}`}>{props.label}</label>
      <select
        id={`f-${name}`}
        name={name}
        multiple={props.multiple}
        value={form.values[name]}
        onChange={(e) => {
          const el = e.target as HTMLSelectElement;
          form.set(name, props.multiple ? Array.from(el.selectedOptions).map((o) => o.value) : el.value);
        }}
      >
        {props.options.map(([v, label]) => (
          <option value={v} selected={props.multiple ? (form.values[name] ?? []).includes(v) : undefined}>{label}</option>
        ))}
      </select>
      {err && <small class="error-text">{err}</small>}
    </div>
  );
}

export function Form(props: {
  form: FormApi;
  onSubmit: () => void;
  submit: string;
  children: ComponentChildren;
  testid?: string;
}) {
  const { form } = props;
  return (
    <form
      class="form"
      data-testid={props.testid}
      onSubmit={(e: Event) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      {form.message && <Notice kind={form.message.kind}>{form.message.text}</Notice>}
      <div class="grid">{props.children}</div>
      <div class="form-actions">
        <button type="submit" disabled={form.busy}>{form.busy ? "Saving…" : props.submit}</button>
      </div>
    </form>
  );
}

/** Call `tick` every `ms` while the component is shown (live figures). */
export function usePoll(tick: () => void, ms: number, deps: unknown[] = []) {
  const ref = useRef(tick);
  ref.current = tick;
  useEffect(() => {
    ref.current();
    const h = setInterval(() => ref.current(), ms);
    return () => clearInterval(h);
  }, deps);
}

export const fmt = {
  date: (s?: string | null) => (s ? new Date(s).toLocaleString() : "—"),
  day: (s?: string | null) => (s ? new Date(s).toLocaleDateString() : "—"),
  secs: (ms?: number | null) => {
    if (ms == null) return "—";
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  },
  money: (v?: string | number | null) => (v == null ? "—" : `$${Number(v).toFixed(2)}`),
};

export function Badge(props: { tone?: "ok" | "warn" | "bad" | "info"; children: ComponentChildren }) {
  return <span class={`badge ${props.tone ?? "info"}`}>{props.children}</span>;
}
