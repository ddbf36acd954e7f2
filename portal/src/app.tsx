// The shell: who is signed in, the navigation their roles allow, and the page for the URL.
import type { ComponentChildren, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { isAdmin, logout, whoami, type Session } from "./auth";
import { match, navigate, usePath } from "./router";
import { Link, Notice } from "./ui/kit";
import { Login } from "./pages/login";
import { operatorRoutes } from "./pages/operator";
import { adminRoutes } from "./pages/admin";
import { userRoutes } from "./pages/user";
import { PhonePage } from "./pages/phone";
import { accountRoutes } from "./pages/account";
import { flowRoutes } from "./pages/flows";
import { campaignRoutes } from "./pages/campaigns/campaigns";

export type PageProps = { session: Session; params: Record<string, string> };
export type RouteDef = { path: string; title: string; page: FunctionComponent<PageProps>; nav?: boolean };
// The CPaaS section: flows, then campaigns (issue 20 §1, §2).
const cpaasRoutes: RouteDef[] = [...flowRoutes, ...campaignRoutes];

function NavSection(props: { title: string; items: { href: string; label: string }[]; path: string }) {
  return (
    <div class="nav-section">
      <div class="nav-title">{props.title}</div>
      {props.items.map((i) => (
        <Link href={i.href} class={props.path === i.href || props.path.startsWith(i.href + "/") ? "active" : ""} testid={`nav-${i.label}`}>
          {i.label}
        </Link>
      ))}
    </div>
  );
}

function home(s: Session): string {
  if (s.kind === "operator") return "/op/tenants";
  if (isAdmin(s)) return `/t/${s.tenantId}/users`;
  if (isDeveloper(s)) return `/t/${s.tenantId}/flows`;
  return `/t/${s.tenantId}/me/voicemail`;
}

// A developer (a CPaaS key) builds flows and runs campaigns; so does an office administrator (issue 20 §1, §2).
const isDeveloper = (s: Session) => s.roles.includes("developer");

export function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    whoami().then(setSession, () => setSession(null));
  }, []);
  if (session === undefined) return <div class="boot">Loading…</div>;
  if (session === null || path === "/login")
    return (
      <Login
        onSignedIn={(s) => {
          setSession(s);
          navigate(path === "/login" || path === "/" ? home(s) : path, true);
        }}
      />
    );
  if (path === "/" || (session.enrollOnly && path !== "/account")) {
    navigate(session.enrollOnly ? "/account" : home(session), true);
    return null;
  }
  // The tenant in the URL (an operator may look at any tenant; the API refuses the rest).
  const tenantMatch = path.match(/^\/t\/([^/]+)/);
  const tenantId = tenantMatch ? tenantMatch[1] : session.tenantId;
  const sections: { title: string; items: { href: string; label: string }[] }[] = [];
  if (session.kind === "operator")
    sections.push({ title: "Operator", items: operatorRoutes.filter((r) => r.nav !== false).map((r) => ({ href: r.path, label: r.title })) });
  if (tenantId && isAdmin(session))
    sections.push({
      title: session.kind === "operator" ? "Tenant" : "Office",
      items: adminRoutes.filter((r) => r.nav !== false).map((r) => ({ href: r.path.replace(":tenant", tenantId), label: r.title })),
    });
  if (tenantId && (isAdmin(session) || isDeveloper(session)))
    sections.push({ title: "CPaaS", items: cpaasRoutes.filter((r) => r.nav !== false).map((r) => ({ href: r.path.replace(":tenant", tenantId), label: r.title })) });
  if (session.kind === "user" && session.tenantId && !isDeveloper(session))
    sections.push({
      title: "My phone",
      items: [
        ...userRoutes.filter((r) => r.nav !== false).map((r) => ({ href: r.path.replace(":tenant", session.tenantId!), label: r.title })),
        { href: "/phone", label: "Phone" },
      ],
    });

  if (session.mode === "cookie") sections.push({ title: "Account", items: accountRoutes.map((r) => ({ href: r.path, label: r.title })) });
  if (session.enrollOnly) sections.length = 0;

  let content: ComponentChildren = null;
  for (const r of [...operatorRoutes, ...adminRoutes, ...cpaasRoutes, ...userRoutes, ...accountRoutes]) {
    const params = match(r.path, path);
    if (params) {
      const P = r.page;
      content = <P session={session} params={params} />;
      break;
    }
  }
  if (path === "/phone") content = <PhonePage session={session} params={{}} />;
  if (!content) content = <Notice kind="error"><strong>Not found.</strong> There is no page at {path}.</Notice>;

  return (
    <div class="shell">
      <aside class="sidebar">
        <div class="brand"><span class="logo">☎</span> Centrex</div>
        {sections.map((s) => <NavSection {...s} path={path} />)}
      </aside>
      <div class="main">
        <header class="topbar">
          <span class="muted">{session.kind === "operator" ? "Operator console" : isAdmin(session) ? "Office administration" : "Self-care"}</span>
          <span class="who" data-testid="who">
            {session.name} <span class="badge info">{session.roles.join(", ")}</span>
            <button
              class="ghost"
              onClick={async () => {
                await logout();
                setSession(null);
                navigate("/login");
              }}
            >
              Sign out
            </button>
          </span>
        </header>
        <main>{content}</main>
      </div>
    </div>
  );
}
