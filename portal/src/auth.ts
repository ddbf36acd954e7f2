// Who is signed in. With the session login of portal-auth (POST /api/v1/auth/login, the
// `centrex_session` cookie) the server says who we are at GET /api/v1/auth/me. Until a server has
// that route, an API token works too (Authorization: Bearer), and the portal works out the role by
// asking the API what the token may read: the API's policy (store/policy.py) decides, never the
// portal.
import { authHeaders, bearerToken, setBearerToken, ApiError, type ErrorBody } from "./api/client";

export type Session = {
  kind: "operator" | "user";
  roles: string[];
  tenantId: string | null;
  userId: string | null;
  name: string;
  mode: "cookie" | "token";
  email?: string | null;
  tenantName?: string | null;
  totpEnabled?: boolean;
  totpRequired?: boolean;
  /** A session that may only enrol TOTP (an admin whose role requires it), then sign in again. */
  enrollOnly?: boolean;
};

export const isAdmin = (s: Session) =>
  ["office_admin", "backup_admin", "admin", "operator"].some((r) => s.roles.includes(r));

const TENANT_KEY = "centrex.tenant";

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: authHeaders(), credentials: "same-origin" });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function fromAuthMe(): Promise<Session | null | "absent"> {
  const { status, body } = await getJson("/api/v1/auth/me");
  if (status !== 200 || !body) return bearerToken() ? "absent" : null; // a token: ask what it may read
  const roles: string[] = body.roles ?? (body.role ? [body.role] : []);
  const operator = body.kind === "operator" || roles.includes("operator");
  return {
    kind: operator ? "operator" : "user",
    roles: operator && !roles.includes("operator") ? [...roles, "operator"] : roles,
    tenantId: body.tenant_id ?? null,
    userId: body.user_id ?? null,
    name: body.name ?? body.email ?? "",
    mode: body.auth === "token" || bearerToken() ? "token" : "cookie",
    email: body.email ?? null,
    tenantName: body.tenant_name ?? null,
    totpEnabled: !!body.totp_enabled,
    totpRequired: !!body.totp_required,
    enrollOnly: !!body.enroll_only,
  };
}

async function fromToken(): Promise<Session | null> {
  const pool = await getJson("/api/v1/numbers?limit=1");
  if (pool.status === 401) return null;
  if (pool.status === 200) {
    return { kind: "operator", roles: ["operator"], tenantId: null, userId: null, name: "Operator", mode: "token" };
  }
  let tenantId = sessionStorage.getItem(TENANT_KEY);
  if (!tenantId) {
    const tenants = await getJson("/api/v1/tenants?limit=2");
    if (tenants.status === 200 && tenants.body?.items?.length === 1) tenantId = tenants.body.items[0].id;
  }
  if (!tenantId) return null;
  const me = await getJson(`/api/v1/tenants/${tenantId}/me`);
  if (me.status !== 200) return null;
  const users = await getJson(`/api/v1/tenants/${tenantId}/users?limit=1`);
  return {
    kind: "user",
    roles: users.status === 200 ? ["admin"] : ["end_user"], // a token cannot tell office from back-up admin
    tenantId,
    userId: me.body.id,
    name: `${me.body.name} (${me.body.extension})`,
    mode: "token",
  };
}

export async function whoami(): Promise<Session | null> {
  const s = await fromAuthMe();
  if (s === "absent") return fromToken();
  return s;
}

export type LoginResult = { session: Session } | { totpRequired: true } | { error: ApiError };

export async function loginWithPassword(email: string, password: string, totp?: string, tenant?: string): Promise<LoginResult> {
  setBearerToken(null);
  const body: Record<string, string> = { email, password };
  if (totp) body.totp_code = totp;
  if (tenant) body.tenant = tenant;
  const res = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders("POST") },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as (ErrorBody & Record<string, unknown>) | null;
  if (res.status === 404 && json?.error === "not_found" && !json?.field)
    return { error: new ApiError(404, { error: "not_found", message: "Sign-in with a password is not available on this server yet: use an API token." }) };
  if (!res.ok) {
    if (json?.rule === "totp_required") return { totpRequired: true }; // api/routers/auth.py
    return { error: new ApiError(res.status, json) };
  }
  const s = await whoami();
  return s ? { session: s } : { error: new ApiError(401, { message: "Signed in, but the session was not accepted." }) };
}

export async function loginWithToken(token: string, tenantId: string): Promise<LoginResult> {
  setBearerToken(token.trim());
  if (tenantId.trim()) sessionStorage.setItem(TENANT_KEY, tenantId.trim());
  else sessionStorage.removeItem(TENANT_KEY);
  const s = await whoami();
  if (s) return { session: s };
  setBearerToken(null);
  return { error: new ApiError(401, { message: "This token is not valid (or needs the tenant ID).", field: "token" }) };
}

export async function logout(): Promise<void> {
  if (!bearerToken()) {
    await fetch("/api/v1/auth/logout", { method: "POST", headers: authHeaders("POST"), credentials: "same-origin" }).catch(() => null);
  }
  setBearerToken(null);
  sessionStorage.removeItem(TENANT_KEY);
}
