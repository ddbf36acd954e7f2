import { useState } from "preact/hooks";
import { loginWithPassword, loginWithToken, type Session } from "../auth";
import { Field, Form, useForm } from "../ui/kit";

export function Login(props: { onSignedIn: (s: Session) => void }) {
  const [mode, setMode] = useState<"password" | "token">("password");
  const [totp, setTotp] = useState(false);
  const pw = useForm({ email: "", password: "", totp: "" });
  const tk = useForm({ token: "", tenant: "" });
  return (
    <div class="login">
      <div class="login-card">
        <div class="brand big"><span class="logo">☎</span> Centrex</div>
        <p class="muted">Sign in to manage your phone service.</p>
        <div class="tabs">
          <button class={mode === "password" ? "tab active" : "tab"} onClick={() => setMode("password")}>E-mail and password</button>
          <button class={mode === "token" ? "tab active" : "tab"} onClick={() => setMode("token")} data-testid="token-tab">API token</button>
        </div>
        {mode === "password" ? (
          <Form
            form={pw}
            submit="Sign in"
            testid="login-form"
            onSubmit={() =>
              pw.submit(async (v) => {
                const r = await loginWithPassword(v.email, v.password, totp ? v.totp : undefined);
                if ("error" in r) throw r.error;
                if ("totpRequired" in r) {
                  setTotp(true);
                  return "Enter the 6-digit code from your authenticator app.";
                }
                props.onSignedIn(r.session);
              }, false)
            }
          >
            <Field form={pw} name="email" label="E-mail" type="email" required />
            <Field form={pw} name="password" label="Password" type="password" required />
            {totp && <Field form={pw} name="totp" label="Authenticator code" />}
          </Form>
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
            <Field form={tk} name="tenant" label="Tenant ID" hint="For user tokens; operators leave it empty." />
          </Form>
        )}
      </div>
    </div>
  );
}
