// Self-care for the person with the phone: voicemail in the browser, forwarding and do-not-disturb,
// 911 location confirmation after a move, call history and their devices.
import { useEffect, useState } from "preact/hooks";
import type { PageProps, RouteDef } from "../app";
import { ApiError, api, authHeaders, fetchBlob, ok } from "../api/client";
import type { components } from "../api/schema";
import { Badge, Card, ErrorNotice, Field, Form, Notice, Page, PagedTable, fmt, useForm, useLoad } from "../ui/kit";

type S = components["schemas"];

function Voicemail({ params }: PageProps) {
  const tenant = params.tenant;
  const [folder, setFolder] = useState<"new" | "saved">("new");
  const [n, setN] = useState(0);
  const [playing, setPlaying] = useState<{ id: string; url: string } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => () => void (playing && URL.revokeObjectURL(playing.url)), [playing]);
  async function play(m: S["MessageOut"]) {
    setErr(null);
    try {
      const blob = await fetchBlob(`/api/v1/tenants/${tenant}/me/voicemail/messages/${m.id}/audio`);
      setPlaying({ id: m.id, url: URL.createObjectURL(blob) });
    } catch (e) {
      setErr(e);
    }
  }
  async function move(m: S["MessageOut"], to: "saved" | "new") {
    await ok(api.PATCH("/api/v1/tenants/{tenant_id}/me/voicemail/messages/{message_id}", { params: { path: { tenant_id: tenant, message_id: m.id } }, body: { folder: to } })).catch(setErr);
    setN(n + 1);
  }
  async function remove(m: S["MessageOut"]) {
    await ok(api.DELETE("/api/v1/tenants/{tenant_id}/me/voicemail/messages/{message_id}", { params: { path: { tenant_id: tenant, message_id: m.id } } })).catch(setErr);
    setN(n + 1);
  }
  return (
    <Page title="Voicemail" subtitle="Listen to your messages here">
      <Card>
        <div class="filters">
          {(["new", "saved"] as const).map((f) => (
            <button class={`chip ${folder === f ? "active" : ""}`} onClick={() => setFolder(f)}>{f}</button>
          ))}
        </div>
        <ErrorNotice error={err} />
        {playing && (
          <div class="player">
            <audio controls autoPlay src={playing.url} data-testid="voicemail-audio" />
          </div>
        )}
        <PagedTable<S["MessageOut"]>
          testid="voicemail"
          deps={[folder, n]}
          load={(limit, offset) =>
            ok(api.GET("/api/v1/tenants/{tenant_id}/me/voicemail/messages", { params: { path: { tenant_id: tenant }, query: { limit, offset, folder } } }))
          }
          columns={[
            { title: "From", cell: (m) => <><strong>{m.caller_name || m.caller}</strong>{m.caller_name && <div class="muted small">{m.caller}</div>}</> },
            { title: "Received", cell: (m) => fmt.date(m.received_at) },
            { title: "Length", cell: (m) => fmt.secs(m.duration_ms), class: "num" },
            {
              title: "",
              cell: (m) => (
                <span class="row-actions">
                  <button class="small" data-testid="play" onClick={() => play(m)}>{playing?.id === m.id ? "▶ Playing" : "▶ Play"}</button>
                  {folder === "new" ? <button class="small ghost" onClick={() => move(m, "saved")}>Save</button> : <button class="small ghost" onClick={() => move(m, "new")}>To inbox</button>}
                  <button class="small ghost danger" onClick={() => remove(m)}>Delete</button>
                </span>
              ),
            },
          ]}
          empty="No messages."
        />
      </Card>
      <Greetings tenant={tenant} />
    </Page>
  );
}

/** The user's own greetings: what callers hear when busy or unavailable (the default when none). */
function Greetings({ tenant }: { tenant: string }) {
  const [n, setN] = useState(0);
  const [err, setErr] = useState<unknown>(null);
  const [url, setUrl] = useState<string | null>(null);
  const list = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/me/voicemail/greetings", { params: { path: { tenant_id: tenant } } })), [tenant, n]);
  const base = `/api/v1/tenants/${tenant}/me/voicemail/greetings`;
  async function play(kind: string) {
    setErr(null);
    try {
      setUrl(URL.createObjectURL(await fetchBlob(`${base}/${kind}`)));
    } catch (e) {
      setErr(e);
    }
  }
  async function upload(kind: string, file: File | undefined) {
    if (!file) return;
    setErr(null);
    const res = await fetch(`${base}/${kind}`, { method: "PUT", body: file, headers: { ...authHeaders("PUT"), "Content-Type": "audio/wav" }, credentials: "same-origin" });
    if (!res.ok) setErr(new ApiError(res.status, await res.json().catch(() => null)));
    setN(n + 1);
  }
  async function remove(kind: string) {
    await ok(api.DELETE("/api/v1/tenants/{tenant_id}/me/voicemail/greetings/{kind}", { params: { path: { tenant_id: tenant, kind: kind as "busy" | "unavailable" } } })).catch(setErr);
    setN(n + 1);
  }
  return (
    <Card>
      <h2>Greetings</h2>
      <ErrorNotice error={err ?? list.error} />
      {url && <audio controls autoPlay src={url} data-testid="greeting-audio" />}
      <table>
        <tbody>
          {(list.data ?? []).map((g) => (
            <tr>
              <td>{g.kind === "busy" ? "When busy" : "When unavailable"}</td>
              <td>{g.recorded ? fmt.secs(g.duration_ms) : <span class="muted">default</span>}</td>
              <td class="row-actions">
                {g.recorded && <button class="small" onClick={() => play(g.kind)}>▶ Play</button>}
                <label class="small button ghost">
                  Upload WAV
                  <input type="file" accept="audio/wav,.wav" hidden data-testid={`greeting-${g.kind}`} onChange={(e) => upload(g.kind, (e.currentTarget as HTMLInputElement).files?.[0])} />
                </label>
                {g.recorded && <button class="small ghost danger" onClick={() => remove(g.kind)}>Use default</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function Settings({ params }: PageProps) {
  const tenant = params.tenant;
  const me = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/me", { params: { path: { tenant_id: tenant } } })), [tenant]);
  if (me.error) return <Page title="Forwarding"><ErrorNotice error={me.error} /></Page>;
  // The forms appear only with the saved settings in them: shown earlier, what the user typed would be
  // overwritten when the settings arrive (and a Save then would clear their forwarding).
  if (!me.data) return <Page title="Forwarding and do-not-disturb"><p class="muted">Loading…</p></Page>;
  return <SettingsForms tenant={tenant} me={me.data} />;
}

type Me = { name: string; extension: string; forward_always?: string | null; forward_busy?: string | null; forward_no_answer?: string | null; forward_no_answer_seconds: number; do_not_disturb: boolean };

function SettingsForms({ tenant, me }: { tenant: string; me: Me }) {
  const form = useForm({
    forward_always: me.forward_always ?? "",
    forward_busy: me.forward_busy ?? "",
    forward_no_answer: me.forward_no_answer ?? "",
    forward_no_answer_seconds: String(me.forward_no_answer_seconds),
    do_not_disturb: me.do_not_disturb,
  });
  const pin = useForm({ voicemail_pin: "" });
  return (
    <Page title="Forwarding and do-not-disturb" subtitle={`${me.name}, extension ${me.extension}`}>
      <div class="two">
        <Card title="Where your calls go">
          <Form
            form={form}
            submit="Save"
            testid="forwarding-form"
            onSubmit={() =>
              form.submit(async (v) => {
                const m = await ok(
                  api.PATCH("/api/v1/tenants/{tenant_id}/me", {
                    params: { path: { tenant_id: tenant } },
                    body: {
                      forward_always: v.forward_always || null,
                      forward_busy: v.forward_busy || null,
                      forward_no_answer: v.forward_no_answer || null,
                      forward_no_answer_seconds: Number(v.forward_no_answer_seconds) || undefined,
                      do_not_disturb: v.do_not_disturb,
                    },
                  }),
                );
                return m.do_not_disturb ? "Saved. Do-not-disturb is on." : m.forward_always ? `Saved. All calls go to ${m.forward_always}.` : "Saved.";
              }, false)
            }
          >
            <Field form={form} name="do_not_disturb" label="Do not disturb (calls go to voicemail)" type="checkbox" />
            <Field form={form} name="forward_always" label="Forward all calls to" placeholder="+12125550123 or 1002" />
            <Field form={form} name="forward_busy" label="When busy, forward to" />
            <Field form={form} name="forward_no_answer" label="When not answered, forward to" />
            <Field form={form} name="forward_no_answer_seconds" label="…after (seconds)" type="number" />
          </Form>
        </Card>
        <Card title="Voicemail PIN and greetings">
          <Form
            form={pin}
            submit="Change PIN"
            onSubmit={() =>
              pin.submit(async (v) => {
                await ok(api.PATCH("/api/v1/tenants/{tenant_id}/me", { params: { path: { tenant_id: tenant } }, body: { voicemail_pin: v.voicemail_pin } }));
                return "PIN changed.";
              })
            }
          >
            <Field form={pin} name="voicemail_pin" label="New voicemail PIN" type="password" hint="4 to 10 digits" />
          </Form>
          <Notice>Greetings are recorded from your phone (dial your voicemail, option 0) or uploaded as a WAV on the Voicemail page.</Notice>
        </Card>
      </div>
    </Page>
  );
}

function NomadicCard(props: { tenant: string; device: S["NomadicOut"]; done: () => void }) {
  const form = useForm({});
  const d = props.device;
  return (
    <Card title={`Phone ${d.sip_username}`}>
      <p>{d.held ? <Badge tone="bad">moved: confirm your location</Badge> : d.network ? <Badge tone="ok">location confirmed</Badge> : <Badge>not registered yet</Badge>}</p>
      <p>{d.message}</p>
      {d.held && (
        <Form
          form={form}
          submit="I am at my registered 911 address"
          onSubmit={() =>
            form.submit(async () => {
              await ok(api.POST("/api/v1/tenants/{tenant_id}/me/e911/location-confirmation", { params: { path: { tenant_id: props.tenant } }, body: { device_id: d.device_id } }));
              props.done();
              return "Thank you: your location is confirmed.";
            })
          }
        >
          <span />
        </Form>
      )}
    </Card>
  );
}

function MyE911({ params }: PageProps) {
  const tenant = params.tenant;
  const [n, setN] = useState(0);
  const state = useLoad(() => ok(api.GET("/api/v1/tenants/{tenant_id}/me/e911", { params: { path: { tenant_id: tenant } } })), [tenant, n]);
  return (
    <Page title="911 location" subtitle="Where emergency services will be sent when you dial 911">
      {state.error ? <ErrorNotice error={state.error} /> : !state.data ? <p class="muted">Loading…</p> : (
        <>
          {state.data.length === 0 && <Notice>None of your phones has moved to a new network: nothing to confirm.</Notice>}
          {state.data.map((d) => <NomadicCard tenant={tenant} device={d} done={() => setN(n + 1)} />)}
        </>
      )}
    </Page>
  );
}

function MyCalls({ params }: PageProps) {
  return (
    <Page title="Call history" subtitle="Calls you made and received">
      <Card>
        <PagedTable<S["MyCallOut"]>
          testid="my-calls"
          load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/me/calls", { params: { path: { tenant_id: params.tenant }, query: { limit, offset } } }))}
          columns={[
            { title: "When", cell: (c) => fmt.date(c.start) },
            { title: "From", cell: (c) => c.caller },
            { title: "To", cell: (c) => c.callee },
            { title: "Duration", cell: (c) => fmt.secs(c.duration_ms), class: "num" },
            { title: "Result", cell: (c) => <Badge tone={c.disposition === "answered" ? "ok" : "warn"}>{c.disposition}</Badge> },
          ]}
          empty="No calls yet."
        />
      </Card>
    </Page>
  );
}

function MyDevices({ params }: PageProps) {
  return (
    <Page title="My devices" subtitle="The phones registered to you">
      <Card>
        <PagedTable<S["MyDeviceOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/me/devices", { params: { path: { tenant_id: params.tenant }, query: { limit, offset } } }))}
          columns={[
            { title: "SIP user", cell: (d) => <code>{d.sip_username}</code> },
            { title: "MAC", cell: (d) => d.mac_address ?? "—" },
            { title: "Description", cell: (d) => d.description ?? "—" },
            { title: "State", cell: (d) => <Badge tone={d.enabled ? "ok" : "warn"}>{d.enabled ? "enabled" : "disabled"}</Badge> },
          ]}
        />
      </Card>
    </Page>
  );
}

export const userRoutes: RouteDef[] = [
  { path: "/t/:tenant/me/voicemail", title: "Voicemail", page: Voicemail },
  { path: "/t/:tenant/me/settings", title: "Forwarding & DND", page: Settings },
  { path: "/t/:tenant/me/e911", title: "911 location", page: MyE911 },
  { path: "/t/:tenant/me/calls", title: "Call history", page: MyCalls },
  { path: "/t/:tenant/me/devices", title: "My devices", page: MyDevices },
];
