// The browser softphone (docs/softphone.md) is its own page at /phone/ (JsSIP, built from phone/);
// inside the portal it is shown in a frame of the same origin, which may use the microphone.
import type { PageProps } from "../app";
import { Page } from "../ui/kit";

export default function Phone(_props: PageProps) {
  return (
    <Page title="Phone" subtitle="Calls from the browser: SIP over WebSocket, media through rtpengine">
      <p class="muted">
        Your browser phone is a device of your own: it registers by itself, rings with your desk phone and calls as you.{" "}
        <a href="/phone/" target="_blank" rel="noopener">Open in its own window</a>
      </p>
      <iframe
        src="/phone/"
        title="Browser phone"
        allow="microphone; autoplay"
        style={{ width: "100%", minHeight: "640px", border: "0" }}
      />
    </Page>
  );
}
