// The portal's user opens the browser phone (/phone/) signed in to the portal: the page asks the
// API for the user's own browser-phone device (POST /me/softphone), registers over SIP over
// *secure* WebSocket (wss://, the switch's self-signed certificate), calls TARGET, talks (the fake
// microphone plays TONE_WAV), and hangs up. For tests/softphone/test_browser_phone_wss.py.
// env: BASE (portal URL), EMAIL, PASSWORD, TARGET, TONE_WAV, CHROMIUM, PHONE_DIR, SCREENSHOT.
// Progress as JSON lines ({"step": ...}); exit code 0 when every step passed.
import { createRequire } from "node:module";
import { join } from "node:path";

const env = process.env;
const require = createRequire(join(env.PHONE_DIR, "package.json"));
const { chromium } = require("playwright-core");

const say = (step, extra = {}) => console.log(JSON.stringify({ step, ...extra }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${env.TONE_WAV}`,
    "--ignore-certificate-errors", // the switch's self-signed WSS certificate (a user would trust it once)
    "--disable-background-networking",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
let page;
const state = async () => page.evaluate(() => ({ ...window.centrexPhone, events: [...window.centrexPhone.events] }));
async function until(what, predicate, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await state();
    if (predicate(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 520, height: 860 }, ignoreHTTPSErrors: true });
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || env.DEBUG) say(`console-${m.type()}`, { text: m.text() });
  });
  // Sign in to the portal with the user's e-mail and password (a session cookie).
  await page.goto(`${env.BASE}/login`);
  const form = page.getByTestId("login-form");
  await form.locator("#f-email").fill(env.EMAIL);
  await form.locator("#f-password").fill(env.PASSWORD);
  await form.locator("button[type=submit]").click();
  await page.getByTestId("who").waitFor();
  say("signed-in");
  // The phone page: no SIP password typed, it comes from the user's own browser device.
  await page.goto(`${env.BASE}/phone/`);
  await until("registration", (s) => s.registration === "registered", 30000);
  const server = await page.inputValue("#server");
  const user = await page.inputValue("#user");
  const s0 = await state();
  say("registered", { server, user, device: s0.device });
  await page.fill("#target", env.TARGET);
  await page.click("#call");
  await until("the call to be answered", (s) => s.call === "confirmed");
  say("confirmed");
  await until("media (ICE and DTLS) to connect", (s) => s.media === "connected");
  say("media");
  await sleep(3000); // the tone flows to the far side
  const stats = await page.evaluate(() => window.centrexPhone.stats());
  const out = stats.find((x) => x.type === "outbound-rtp");
  say("stats", { packetsSent: out ? out.packetsSent : 0 });
  if (env.SCREENSHOT) await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
  await page.click("#hangup");
  await until("the call to end", (s) => s.call === "idle");
  say("ended");
  say("done", { events: (await state()).events });
} catch (err) {
  failed = err;
  say("failed", { error: String(err && err.stack ? err.stack : err) });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
