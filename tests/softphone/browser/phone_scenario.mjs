// Drives the phone page (/phone/) in headless Chromium with playwright-core, for
// tests/softphone/test_browser_phone.py. Node-side steps per scenario; progress and the result
// go to stdout as JSON lines ({"step": ...}); exit code 0 when every step passed.
//
// env: PHONE_URL (page with ?server=&user=&domain=), SIP_PASSWORD, TONE_WAV, SCENARIO
// (call-out: call TARGET, talk, DTMF, hold, resume, hang up; call-in: answer the incoming call
// and stay until the far side hangs up; transfer: call TARGET, blind-transfer it to TRANSFER_TO), TARGET, CHROMIUM, PHONE_DIR (for playwright-core),
// SCREENSHOT (optional PNG path).
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
  const context = await browser.newContext({ viewport: { width: 520, height: 860 } });
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || env.DEBUG) say(`console-${m.type()}`, { text: m.text() });
  });
  await page.goto(env.PHONE_URL);
  await page.fill("#password", env.SIP_PASSWORD);
  await page.click("#register");
  await until("registration", (s) => s.registration === "registered");
  await page.waitForSelector("#reg-state[data-state=registered]");
  say("registered");

  if (env.SCENARIO === "call-out") {
    await page.fill("#target", env.TARGET);
    await page.click("#call");
    await until("the call to be answered", (s) => s.call === "confirmed");
    say("confirmed");
    await until("media (ICE and DTLS) to connect", (s) => s.media === "connected");
    say("media");
    await sleep(3000); // the tone flows to the far side
    for (const tone of ["1", "5", "#"]) {
      await page.click(`#keypad button[data-tone="${tone}"]`);
      await sleep(400);
    }
    await until("the DTMF to be sent", (s) => s.events.filter((e) => e.startsWith("DTMF")).length === 3);
    say("dtmf");
    await sleep(500);
    await page.click("#hold");
    await until("hold", (s) => s.held === true);
    say("held");
    if (env.SCREENSHOT) await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
    await sleep(1000);
    await page.click("#hold");
    await until("resume", (s) => s.held === false);
    say("resumed");
    await sleep(1000);
    await page.click("#hangup");
    await until("the call to end", (s) => s.call === "idle");
    say("ended");
  } else if (env.SCENARIO === "transfer") {
    await page.fill("#target", env.TARGET);
    await page.click("#call");
    await until("the call to be answered", (s) => s.call === "confirmed");
    await until("media (ICE and DTLS) to connect", (s) => s.media === "connected");
    say("confirmed");
    await page.fill("#transfer-target", env.TRANSFER_TO);
    await page.click("#transfer-go");
    // Blind transfer: the switch takes the REFER (202), tells how it went (NOTIFY) and releases us.
    await until("the switch to release the transferred call", (s) => s.call === "idle");
    say("ended");
  } else if (env.SCENARIO === "call-in") {
    await until("an incoming call", (s) => s.call === "incoming", 60000);
    say("incoming");
    await page.click("#answer");
    await until("the call to be confirmed", (s) => s.call === "confirmed");
    say("confirmed");
    await until("media (ICE and DTLS) to connect", (s) => s.media === "connected");
    say("media");
    if (env.SCREENSHOT) await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
    await until("the far side to hang up", (s) => s.call === "idle", 60000);
    say("ended");
  } else {
    throw new Error(`unknown SCENARIO ${env.SCENARIO}`);
  }
  say("done", { events: (await state()).events });
} catch (err) {
  failed = err;
  say("failed", { error: String(err && err.stack ? err.stack : err) });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
