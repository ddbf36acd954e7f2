// Sign in (e-mail + password, then the authenticator code when the account has TOTP on), forgotten
// password and the reset link's page (/reset?token=...), and sign-in with an API token.
import { useState } from "preact/hooks";
import { api, ok } from "../api/client";
import { loginWithPassword, loginWithToken, type Session } from "../auth";
import { navigate } from "../router";
import { Field, Form, Notice, useForm } from "../ui/kit";

function Frame(props: { children: any }) {
  return (
    <div class="login">
      <div class="login-card">
        <div class="brand big"><span class="logo">☎</span> Centrex</div>
        {props.children}
      </div>
    </div>
  );
}

function Forgot(props: { back: () => void }) {
  const form = useForm({ email: "" });
  return (
    <Frame>
      <p class="muted">We will e-mail you a link to choose a new password.</p>
      <Form
        form={form}
        submit="Send the link"
        testid="forgot-form"
        onSubmit={() =>
          form.submit(async (v) => {
            await ok(api.POST("/api/v1/auth/password-reset", { body: { email: v.email } }));
            return "If an account has this address, a link is on its way.";
          })
        }
      >
        <Field form={form} name="email" label="E-mail" type="email" required />
      </Form>
      <p><a href="/login" onClick={(e) => (e.preventDefault(), props.back())}>← Back to sign in</a></p>
    </Frame>
  );
}

function Reset() {
  const token = new URLSearchParams(location.search).get("token") ?? "";
  const form = useForm({ password: "", again: "" });
  const [done, setDone] = useState(false);
  return (
    <Frame>
      {done ? (
        <Notice kind="ok">Your password is changed. <a href="/login" onClick={(e) => (e.preventDefault(), navigate("/login"))}>Sign in</a></Notice>
      ) : (
        <Form
          form={form}
          submit="Set the new password"
          onSubmit={() =>
            form.submit(async (v) => {
              if (v.password !== v.again) throw new Error("the two passwords differ");
              await ok(api.POST("/api/v1/auth/password-reset/confirm", { body: { token, password: v.password } }));
              setDone(true);
            })
          }
        >
          <Field form={form} name="password" label="New password" type="password" required />
          <Field form={form} name="again" label="The same again" type="password" required />
        </Form>
      )}
    </Frame>
  );
}

export function Login(props: { onSignedIn: (s: Session) => void }) {
  const [mode, setMode] = useState<"password" | "token" | "forgot">("password");
  const [totp, setTotp] = useState(false);
  const [askTenant, setAskTenant] = useState(false);
  const pw = useForm({ email: "", password: "", totp_code: "", tenant: "" });
  const tk = useForm({ token: "", tenant: "" });
  if (location.pathname === "/reset") return <Reset />;
  if (mode === "forgot") return <Forgot back={() => setMode("password")} />;
  return (
    <Frame>
      <p class="muted">Sign in to manage your phone service.</p>
      <div class="tabs">
        <button class={mode === "password" ? "tab active" : "tab"} onClick={() => setMode("password")}>E-mail and password</button>
        <button class={mode === "token" ? "tab active" : "tab"} onClick={() => setMode("token")} data-testid="token-tab">API token</button>
      </div>
      {mode === "password" ? (
        <>
          <Form
            form={pw}
            submit="Sign in"
            testid="login-form"
            onSubmit={() =>
              pw.submit(async (v) => {
                const r = await loginWithPassword(v.email, v.password, totp ? v.totp_code : undefined, v.tenant || undefined);
                if ("error" in r) {
                  if (r.error.body?.field === "tenant") setAskTenant(true);
                  throw r.error;
                }
                if ("totpRequired" in r) {
                  setTotp(true);
                  return "Enter the 6-digit code of your authenticator app.";
                }
                props.onSignedIn(r.session);
              }, false)
            }
          >
            <Field form={pw} name="email" label="E-mail" type="email" required />
            <Field form={pw} name="password" label="Password" type="password" required />
            {totp && <Field form={pw} name="totp_code" label="Authenticator code" placeholder="123456" />}
            {askTenant && <Field form={pw} name="tenant" label="Company (its SIP domain)" placeholder="acme.example.com" />}
          </Form>
          <p class="small"><a href="/login" onClick={(e) => (e.preventDefault(), setMode("forgot"))}>Forgot your password?</a></p>
        </>
      ) : (
        <Form
          form={tk}
          submit="Sign in with token"
          testid="token-form"
          onSubmit={() =>
            tk.submit(async (v) => {
              const r = await loginWithToken(v.token, v.tenant);
              if ("error" in r) throw r.error;
              if ("session" in r) props.onSignedIn(r.session);
            }, false)
          }
        >
          <Field form={tk} name="token" label="API token" type="password" placeholder="cx_…" required />
          <Field form={tk} name="tenant" label="Tenant ID" hint="Only needed on servers without /auth/me; operators leave it empty." />
        </Form>
      )}
    </Frame>
  );
}
