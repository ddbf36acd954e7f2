// The browser softphone lives in src/phone/ (the softphone branch). This page loads it when the
// build has it, and says so plainly when it does not.
import { useEffect, useState } from "preact/hooks";
import type { FunctionComponent } from "preact";
import type { PageProps } from "../app";
import { Notice, Page } from "../ui/kit";

const modules = import.meta.glob<{ default: FunctionComponent<PageProps> }>("../phone/index.tsx");

export function PhonePage(props: PageProps) {
  const [Phone, setPhone] = useState<FunctionComponent<PageProps> | null>(null);
  const loader = Object.values(modules)[0] as (() => Promise<{ default: FunctionComponent<PageProps> }>) | undefined;
  useEffect(() => {
    if (loader) loader().then((m) => setPhone(() => m.default));
  }, []);
  if (Phone) return <Phone {...props} />;
  return (
    <Page title="Phone" subtitle="Calls from the browser">
      {loader ? <p class="muted">Loading the phone…</p> : <Notice>The browser phone is not part of this build yet.</Notice>}
    </Page>
  );
}
