// The typed REST client: openapi-fetch over the types openapi-typescript generates from the API's
// own OpenAPI document (portal/openapi.json, exported by `npm run openapi`). Nothing here is
// written by hand but the two headers every request needs.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

const TOKEN_KEY = "centrex.token";

export function bearerToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setBearerToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The CSRF double-submit cookie (portal-auth): echoed in X-CSRF-Token on unsafe methods. */
export function csrfToken(): string | null {
  const m = document.cookie.match(/(?:^|;\s*)centrex_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

export function authHeaders(method = "GET"): Record<string, string> {
  const h: Record<string, string> = {};
  const token = bearerToken();
  if (token) h["Authorization"] = `Bearer ${token}`;
  const csrf = csrfToken();
  if (csrf && !["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase())) h["X-CSRF-Token"] = csrf;
  return h;
}

const auth: Middleware = {
  onRequest({ request }) {
    for (const [k, v] of Object.entries(authHeaders(request.method))) request.headers.set(k, v);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(auth);

/** A binary download (PDF, WAV) with the session or the token, as a Blob. */
export async function fetchBlob(url: string): Promise<Blob> {
  const res = await fetch(url, { headers: authHeaders(), credentials: "same-origin" });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res.blob();
}

export type ErrorBody = {
  error?: string;
  message?: string;
  field?: string;
  rule?: string;
  errors?: { field: string; rule: string; message: string }[];
};

export class ApiError extends Error {
  status: number;
  body: ErrorBody | null;
  constructor(status: number, body: ErrorBody | null) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
  /** Per-field messages, from `errors` (422) or the single `field`. */
  fields(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.body?.errors ?? []) out[e.field] = e.message;
    if (this.body?.field && this.body.message && !out[this.body.field]) out[this.body.field] = this.body.message;
    return out;
  }
}

/** Unwrap an openapi-fetch result: the data, or an ApiError carrying the API's error body. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (!response.ok) throw new ApiError(response.status, (error ?? null) as ErrorBody | null);
  return data as T;
}
