// The signed-in person's account: two-factor sign-in (TOTP) and password; and the audit log of
// changes for those the API lets see it (operators: everything; a tenant's staff: their tenant).
import { useEffect, useRef, useState } from "preact/hooks";
import QRCode from "qrcode";
import type { PageProps, RouteDef } from "../app";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Badge, Card, Field, Form, Notice, Page, PagedTable, fmt, useForm } from "../ui/kit";

type S = components["schemas"];

function Qr(props: { text: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) QRCode.toCanvas(canvas.current, props.text, { width: 180, margin: 1 });
  }, [props.text]);
  return <canvas ref={canvas} data-testid="totp-qr" />;
}

function Security({ session }: PageProps) {
  const [enrolment, setEnrolment] = useState<S["Enrolment"] | null>(null);
  const [enabled, setEnabled] = useState(!!session.totpEnabled);
  const [changed, setChanged] = useState<string | null>(null);
  const start = useForm({});
  const confirm = useForm({ code: "" });
  const disable = useForm({ code: "" });
  const pw = useForm({ current_password: "", new_password: "" });
  return (
    <Page title="Sign-in and security" subtitle={session.email ?? session.name}>
      {session.enrollOnly && (
        <Notice kind="error">Your role requires two-factor sign-in. Set up an authenticator app to continue.</Notice>
      )}
      <div class="two">
        <Card title="Two-factor sign-in (authenticator app)">
          <p>
            Status: {enabled ? <Badge tone="ok">on</Badge> : <Badge tone="warn">off</Badge>}
            {session.totpRequired && <span class="muted"> · required for your role</span>}
          </p>
          {changed && <Notice kind="ok">{changed}</Notice>}
          {session.mode === "token" && <Notice>Signed in with an API token: two-factor settings belong to a password sign-in.</Notice>}
          {!enabled && !enrolment && session.mode === "cookie" && (
            <Form
              form={start}
              submit="Set up an authenticator app"
              onSubmit={() =>
                start.submit(async () => {
                  setEnrolment(await ok(api.POST("/api/v1/auth/totp")));
                })
              }
            >
              <span class="muted">Any TOTP app works (Google Authenticator, Aegis, 1Password…).</span>
            </Form>
          )}
          {enrolment && !enabled && (
            <>
              <div class="enrol">
                <Qr text={enrolment.otpauth_uri} />
                <div>
                  <p>Scan the code with your app, or type this key:</p>
                  <code data-testid="totp-secret">{enrolment.secret}</code>
                </div>
              </div>
              <Form
                form={confirm}
                submit="Turn on"
                onSubmit={() =>
                  confirm.submit(async (v) => {
                    await ok(api.POST("/api/v1/auth/totp/confirm", { body: { code: v.code } }));
                    setEnabled(true);
                    setEnrolment(null);
                    setChanged("Two-factor sign-in is on.");
                    if (session.enrollOnly) location.assign("/");
                  })
                }
              >
                <Field form={confirm} name="code" label="The app's 6-digit code" required />
              </Form>
            </>
          )}
          {enabled && !session.totpRequired && session.mode === "cookie" && (
            <Form
              form={disable}
              submit="Turn off"
              onSubmit={() =>
                disable.submit(async (v) => {
                  await ok(api.POST("/api/v1/auth/totp/disable", { body: { code: v.code } }));
                  setEnabled(false);
                  setChanged("Two-factor sign-in is off.");
                })
              }
            >
              <Field form={disable} name="code" label="A current code, to turn it off" />
            </Form>
          )}
        </Card>
        {session.kind === "user" && session.tenantId && !session.enrollOnly && (
          <Card title="Password">
            <Form
              form={pw}
              submit="Change password"
              onSubmit={() =>
                pw.submit(async (v) => {
                  await ok(api.POST("/api/v1/tenants/{tenant_id}/me/password", { params: { path: { tenant_id: session.tenantId! } }, body: v }));
                  return "Password changed.";
                })
              }
            >
              <Field form={pw} name="current_password" label="Current password" type="password" />
              <Field form={pw} name="new_password" label="New password" type="password" hint="At least 10 characters." required />
            </Form>
          </Card>
        )}
      </div>
    </Page>
  );
}

const auditColumns = [
  { title: "When", cell: (a: S["AuditOut"]) => fmt.date(a.at) },
  { title: "Who", cell: (a: S["AuditOut"]) => <>{a.actor} <span class="muted small">{a.actor_role}</span></> },
  { title: "Action", cell: (a: S["AuditOut"]) => <code>{a.action}</code> },
  { title: "What", cell: (a: S["AuditOut"]) => `${a.entity}${a.entity_id ? ` ${String(a.entity_id).slice(0, 8)}` : ""}` },
];

function TenantAudit({ params }: PageProps) {
  return (
    <Page title="Audit log" subtitle="Every change to this tenant, and who made it">
      <Card>
        <PagedTable<S["AuditOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/tenants/{tenant_id}/audit", { params: { path: { tenant_id: params.tenant }, query: { limit, offset } } }))}
          columns={auditColumns}
        />
      </Card>
    </Page>
  );
}

function OperatorAudit(_: PageProps) {
  return (
    <Page title="Audit log" subtitle="Changes across the service, newest first">
      <Card>
        <PagedTable<S["OperatorAuditOut"]>
          load={(limit, offset) => ok(api.GET("/api/v1/audit", { params: { query: { limit, offset } } }))}
          columns={auditColumns}
        />
      </Card>
    </Page>
  );
}

export const accountRoutes: RouteDef[] = [{ path: "/account", title: "Sign-in & security", page: Security }];
export const operatorAuditRoute: RouteDef = { path: "/op/audit", title: "Audit log", page: OperatorAudit };
export const tenantAuditRoute: RouteDef = { path: "/t/:tenant/audit", title: "Audit log", page: TenantAudit };
