// Contact lists (issue 20 §2, docs/campaigns.md): the lists on the campaigns page with a new one,
// one list's page with its contacts and each contact's consent on record, and adding contacts by
// hand or from a CSV file (parsed here, sent in requests of at most 10,000).
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { PageProps } from "../../app";
import { api, ok, ApiError } from "../../api/client";
import { navigate } from "../../router";
import { Card, ErrorNotice, Field, Form, Link, Notice, Page, PagedTable, TextArea, useForm, useLoad, type Paged } from "../../ui/kit";
import { ConsentCell, ConsentForm, consentInitial } from "./compliance";
import { base, listPath, tenantPath, type Contact, type ContactList, type NewContact } from "./shared";

// -- the contact lists, on the campaigns page -----------------------------------------------------
export function ContactLists(props: { tenant: string; lists: { data: ContactList[] | null; error: unknown } }) {
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

export function ContactListPage({ params }: PageProps) {
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
