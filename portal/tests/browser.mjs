// Browser scenarios of the portal, driven by playwright-core in Debian's chromium. Run by
// tests/portal/test_portal_browser.py (and, for "campaigns", test_portal_campaigns_browser.py, whose
// `centrex serve` has an SMS carrier) against a real `centrex serve`:
//   CENTREX_URL=http://127.0.0.1:port CENTREX_CTX='{"tenant_id": ...}' node tests/browser.mjs <scenario>
// Prints one "ok: ..." line per checked step; exits non-zero (with the reason) on the first failure.
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const BASE = process.env.CENTREX_URL;
const CTX = JSON.parse(process.env.CENTREX_CTX ?? "{}");
const SHOTS = process.env.CENTREX_SHOTS ?? "";
const TIMEOUT = Number(process.env.CENTREX_BROWSER_TIMEOUT_MS ?? 30000);

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const o = mac[19] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const step = (msg) => console.log(`ok: ${msg}`);
function expect(cond, msg) {
  if (!cond) throw new Error(`expected: ${msg}`);
  step(msg);
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  return { browser, page, consoleErrors };
}

async function signIn(page, token, tenant = "") {
  await page.goto(`${BASE}/login`);
  await page.getByTestId("token-tab").click();
  await page.locator("#f-token").fill(token);
  if (tenant) await page.locator("#f-tenant").fill(tenant);
  await page.getByTestId("token-form").locator("button[type=submit]").click();
  await page.getByTestId("who").waitFor();
}

async function signInWithPassword(page, email, password) {
  await page.goto(`${BASE}/login`);
  const form = page.getByTestId("login-form");
  await form.locator("#f-email").fill(email);
  await form.locator("#f-password").fill(password);
  await form.locator("button[type=submit]").click();
  await page.getByTestId("who").waitFor();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByTestId("login-form").waitFor();
}

/** The API as the page sees it (same token), for checks behind what the page shows. */
async function apiFromPage(page, path, init = {}) {
  return page.evaluate(
    async ([path, init]) => {
      const token = sessionStorage.getItem("centrex.token");
      const csrf = document.cookie.match(/(?:^|;\s*)centrex_csrf=([^;]+)/);
      const res = await fetch(path, {
        ...init,
        headers: {
          ...(init.headers ?? {}),
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(csrf && init.method && init.method !== "GET" ? { "X-CSRF-Token": decodeURIComponent(csrf[1]) } : {}),
        },
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [path, init],
  );
}

async function shot(page, name) {
  if (!SHOTS) return;
  await page.waitForTimeout(400); // charts and fonts settle
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
  step(`screenshot ${name}.png`);
}

const scenarios = {
  async operator({ page }) {
    await signIn(page, CTX.operator_token);
    expect(page.url().endsWith("/op/tenants"), "the operator lands on the tenants page");
    const form = page.getByTestId("tenant-form");
    // A refused form shows the API's own message under the field at fault.
    await form.locator("#f-name").fill("Acme Browser Co");
    await form.locator("#f-sip_domain").fill("not a domain");
    await form.locator("button[type=submit]").click();
    const fieldError = form.locator(".field.invalid", { has: page.locator("#f-sip_domain") }).locator(".error-text");
    await fieldError.waitFor();
    expect((await fieldError.textContent()).length > 0, `a bad SIP domain is refused: "${await fieldError.textContent()}"`);
    await form.locator("#f-sip_domain").fill("acme-browser.example.com");
    await form.locator("button[type=submit]").click();
    await form.locator(".notice.ok").waitFor();
    await page.getByTestId("tenants").getByText("Acme Browser Co").waitFor();
    step("the new tenant is listed");
    const tenants = await apiFromPage(page, "/api/v1/tenants?search=acme-browser");
    const tenant = tenants.body.items.find((t) => t.sip_domain === "acme-browser.example.com");
    expect(tenant, "the API has the tenant");

    await page.getByTestId("nav-Numbers").click();
    const nform = page.getByTestId("number-form");
    await nform.locator("#f-e164").fill("+12125550177");
    await nform.locator("button[type=submit]").click();
    await nform.locator(".notice.ok").waitFor();
    await page.getByRole("button", { name: "available", exact: true }).click();
    const assign = page.getByTestId("assign-+12125550177");
    await assign.locator("select").selectOption({ label: "Acme Browser Co" });
    await assign.getByRole("button", { name: "Assign" }).click();
    await page.getByRole("button", { name: "all", exact: true }).click();
    const row = page.getByTestId("numbers").locator("tr", { hasText: "+12125550177" });
    await row.getByText("Acme Browser Co").waitFor();
    step("the number shows as the new tenant's");
    const numbers = await apiFromPage(page, `/api/v1/tenants/${tenant.id}/numbers`);
    expect(numbers.body.items.some((n) => n.e164 === "+12125550177"), "the API lists the number under the tenant");
  },

  async admin({ page }) {
    await signIn(page, CTX.office_admin_token, CTX.tenant_id);
    expect(page.url().endsWith(`/t/${CTX.tenant_id}/users`), "the office admin lands on the users page");
    expect((await page.getByTestId("nav-Tenants").count()) === 0, "no operator pages in the admin's navigation");
    const form = page.getByTestId("user-form");
    await form.locator("#f-name").fill("Browser Tester");
    await form.locator("#f-extension").fill("1050");
    await form.locator("#f-email").fill("tester@example.com");
    await form.locator("#f-sip_username").fill("1050-desk");
    await form.locator("#f-mac_address").fill("00:04:f2:12:34:56");
    await form.locator("button[type=submit]").click();
    const created = page.getByTestId("device-created");
    await created.waitFor();
    expect((await created.textContent()).includes("1050-desk@"), `the phone's credentials are shown: ${await created.textContent()}`);
    await page.getByTestId("users").getByText("Browser Tester").waitFor();
    step("the user is listed");
    const devices = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/devices?search=1050-desk`);
    const device = devices.body.items.find((d) => d.sip_username === "1050-desk");
    expect(device && device.user_id, "the API has the phone, tied to the user");

    // A second user with the same extension: the API's conflict message, shown on the form.
    await form.locator("#f-name").fill("Duplicate");
    await form.locator("#f-extension").fill("1050");
    await form.locator("button[type=submit]").click();
    const err = form.locator(".notice.error");
    await err.waitFor();
    expect(/1050/.test(await err.textContent()), `a duplicate extension is refused: "${await err.textContent()}"`);

    await page.getByTestId("nav-Hunt groups").click();
    const hform = page.getByTestId("hunt-form");
    await hform.locator("#f-name").fill("Sales desk");
    await hform.locator("#f-extension").fill("6150");
    await hform.locator("#f-member_ids").selectOption([{ label: "1050 Browser Tester" }, { label: "1001 Ada Lovelace" }]);
    await hform.locator("button[type=submit]").click();
    await hform.locator(".notice.ok").waitFor();
    const hrow = page.getByTestId("hunt-groups").locator("tr", { hasText: "Sales desk" });
    await hrow.waitFor();
    expect((await hrow.textContent()).includes("1050"), "the hunt group lists its members");

    // Incoming call routing (MAC 9): one of the tenant's numbers now rings the hunt group.
    await page.getByTestId("nav-Numbers").click();
    const route = page.getByTestId(`route-${CTX.routed_number}`);
    await route.locator("select").first().selectOption("hunt_group");
    await route.locator("select").nth(1).selectOption({ label: "6150 Sales desk" });
    await route.getByRole("button", { name: "Route" }).click();
    await route.getByText("→ 6150 Sales desk").waitFor();
    const nums = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/numbers?limit=100`);
    const routed = nums.body.items.find((x) => x.e164 === CTX.routed_number);
    expect(routed.target_type === "hunt_group", `${CTX.routed_number} rings the hunt group (API)`);

    await page.getByTestId("nav-Queues").click();
    const live = page.getByTestId(`queue-live-${CTX.queue_extension}`);
    await live.getByTestId("agents").filter({ hasText: "0" }).waitFor();
    step("the queue's live figures show no agent logged in");
    const login = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/queues/${CTX.queue_id}/agents/${CTX.agent_user_id}/login`, { method: "POST" });
    expect(login.status < 300, `an agent logs in (API ${login.status})`);
    await live.getByTestId("agents").filter({ hasText: "1" }).waitFor();
    step("the live figures follow without a reload: 1 agent logged in");
    expect((await live.getByTestId("waiting").textContent()) === "0", "no caller waiting");

    await page.getByTestId("nav-Capacity").click();
    await page.getByTestId("capacity-chart").waitFor();
    const rows = page.getByTestId("capacity").locator("tbody tr");
    await rows.first().waitFor();
    const cap = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/capacity`);
    expect((await rows.count()) === cap.body.sites.length && cap.body.sites.every((x) => x.calls_now === 0),
      `calls per site against capacity: ${cap.body.sites.length} sites, none busy (the switch's own count)`);
  },

  async enduser({ page }) {
    // A wrong password: the API's message on the form.
    await page.goto(`${BASE}/login`);
    const login = page.getByTestId("login-form");
    await login.locator("#f-email").fill(CTX.user_email);
    await login.locator("#f-password").fill("not-the-password");
    await login.locator("button[type=submit]").click();
    await login.locator(".notice.error").waitFor();
    step(`a wrong password is refused: "${await login.locator(".notice.error").textContent()}"`);
    await signInWithPassword(page, CTX.user_email, CTX.user_password);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "centrex_session");
    expect(session && session.httpOnly && session.sameSite === "Strict", "signed in with a session cookie (HttpOnly, SameSite=Strict)");
    expect(await page.evaluate(() => sessionStorage.getItem("centrex.token")) === null, "no token kept in the page");
    expect(page.url().endsWith(`/t/${CTX.tenant_id}/me/voicemail`), "the end user lands on their voicemail");
    expect((await page.getByTestId("nav-Users").count()) === 0, "no administration pages for an end user");
    const row = page.getByTestId("voicemail").locator("tr", { hasText: CTX.voicemail_caller_name });
    await row.getByTestId("play").click();
    const audio = page.getByTestId("voicemail-audio");
    await audio.waitFor();
    await page.waitForFunction(() => {
      const a = document.querySelector("[data-testid=voicemail-audio]");
      return a && a.currentTime > 0.5;
    }, null, { timeout: TIMEOUT });
    const state = await audio.evaluate((a) => ({ t: a.currentTime, d: a.duration, err: a.error && a.error.code, paused: a.paused }));
    expect(state.err === null && state.t > 0.5, `the message plays in the browser (at ${state.t.toFixed(2)} s of ${state.d.toFixed(2)} s, no error)`);

    // A busy greeting uploaded as a 16 kHz WAV: kept (as 8 kHz), listed with a Play button.
    const rate = 16000, n = Math.round(rate * 1.5);
    const wav = Buffer.alloc(44 + 2 * n);
    wav.write("RIFF", 0); wav.writeUInt32LE(36 + 2 * n, 4); wav.write("WAVEfmt ", 8);
    wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(rate, 24);
    wav.writeUInt32LE(rate * 2, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34);
    wav.write("data", 36); wav.writeUInt32LE(2 * n, 40);
    for (let i = 0; i < n; i++) wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 700 * i) / rate) * 12000), 44 + 2 * i);
    await page.getByTestId("greeting-busy").setInputFiles({ name: "busy.wav", mimeType: "audio/wav", buffer: wav });
    await page.locator("tr", { hasText: "When busy" }).getByRole("button", { name: "▶ Play" }).waitFor({ timeout: TIMEOUT });
    const greetings = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/me/voicemail/greetings`);
    const busy = greetings.body.find((g) => g.kind === "busy");
    expect(busy && busy.recorded && Math.abs(busy.duration_ms - 1500) < 50, `the uploaded greeting is kept (${busy && busy.duration_ms} ms)`);

    await page.getByTestId("nav-Forwarding & DND").click();
    const form = page.getByTestId("forwarding-form");
    await form.locator("#f-forward_always").waitFor();
    await form.locator("#f-forward_always").fill("not a number");
    await form.locator("button[type=submit]").click();
    await form.locator(".field.invalid .error-text").waitFor();
    step(`a bad destination is refused: "${await form.locator(".field.invalid .error-text").textContent()}"`);
    await form.locator("#f-forward_always").fill("+12125550123");
    await form.locator("button[type=submit]").click();
    await form.locator(".notice.ok").waitFor();
    const me = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/me`);
    expect(me.body.forward_always === "+12125550123", "the API has the forwarding");
    const forged = await page.evaluate(async (t) => {
      const r = await fetch(`/api/v1/tenants/${t}/me`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ do_not_disturb: true }) });
      return r.status;
    }, CTX.tenant_id);
    expect(forged === 403, `a change without the CSRF header is refused (${forged})`);
    await signOut(page);
    const after = await page.evaluate(async (t) => (await fetch(`/api/v1/tenants/${t}/me`)).status, CTX.tenant_id);
    expect(after === 401, `after signing out the session is gone (${after})`);
  },

  async totp({ page }) {
    await signInWithPassword(page, CTX.admin_email, CTX.admin_password);
    await page.getByTestId("nav-Sign-in & security").click();
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    await page.getByTestId("totp-qr").waitFor();
    const secret = (await page.getByTestId("totp-secret").textContent()).trim();
    step("the enrolment shows a QR code and the key");
    await page.locator("#f-code").fill("000000");
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.locator(".field.invalid .error-text").waitFor();
    step(`a wrong code is refused: "${await page.locator(".field.invalid .error-text").textContent()}"`);
    const used = Math.floor(Date.now() / 30000);
    await page.locator("#f-code").fill(totp(secret));
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.getByText("Two-factor sign-in is on.").waitFor();
    step("two-factor sign-in is on");
    await signOut(page);
    const form = page.getByTestId("login-form");
    await form.locator("#f-email").fill(CTX.admin_email);
    await form.locator("#f-password").fill(CTX.admin_password);
    await form.locator("button[type=submit]").click();
    await form.locator("#f-totp_code").waitFor();
    step("the password alone is not enough: the code is asked for");
    while (Math.floor(Date.now() / 30000) === used) await page.waitForTimeout(500); // a code is good once
    await form.locator("#f-totp_code").fill(totp(secret));
    await form.locator("button[type=submit]").click();
    await page.getByTestId("who").waitFor();
    expect(page.url().endsWith(`/t/${CTX.tenant_id}/users`), "signed in with password and code, on the users page");
  },

  async isolation({ page }) {
    await signIn(page, CTX.office_admin_token, CTX.tenant_id);
    for (const p of ["users", "queues", "hunt-groups", "devices"]) {
      await page.goto(`${BASE}/t/${CTX.other_tenant_id}/${p}`);
      await page.getByText("Not found.", { exact: true }).waitFor();
      const shown = await page.locator("main").textContent();
      expect(!shown.includes(CTX.other_user_name), `another tenant's ${p} page shows not found, and none of its data`);
    }
    const r = await apiFromPage(page, `/api/v1/tenants/${CTX.other_tenant_id}/users`);
    expect(r.status === 404, `the API answers 404 for another tenant's users (${r.status})`);
    await signInWithPassword(page, CTX.user_email, CTX.user_password);
    await page.goto(`${BASE}/t/${CTX.other_tenant_id}/me/voicemail`);
    await page.getByText("Not found.", { exact: true }).first().waitFor(); // messages and greetings both
    step("an end user sees not found for another tenant's voicemail");
    await page.goto(`${BASE}/t/${CTX.tenant_id}/users`);
    await page.getByText("Not allowed.", { exact: true }).or(page.getByText("Not found.", { exact: true })).waitFor();
    step("an end user sees no administration data of their own tenant");
  },

  // Campaigns (issue 20 §2): an office administrator makes a contact list of two contacts, records
  // the consent of one, creates and starts an SMS marketing campaign, and reads its report: one sent
  // (and delivered: the carrier's receipt), one skipped for no consent. A campaign scheduled for
  // tomorrow is cancelled. A developer (CPaaS key) sees the campaigns too.
  async campaigns({ page }) {
    await signInWithPassword(page, CTX.admin_email, CTX.admin_password);
    const cpaas = await page.locator(".nav-section", { has: page.locator(".nav-title", { hasText: "CPaaS" }) }).locator("a").allTextContents();
    expect(cpaas.indexOf("Campaigns") === cpaas.indexOf("Flows") + 1, `Campaigns is beside Flows in the CPaaS section (${cpaas.join(", ")})`);
    await page.getByTestId("nav-Campaigns").click();
    await page.getByTestId("campaigns").waitFor();
    expect(page.url().endsWith(`/t/${CTX.tenant_id}/campaigns`), "the office administrator opens Campaigns");

    const lform = page.getByTestId("list-form");
    await lform.locator("#f-name").fill("Spring list");
    await lform.locator("button[type=submit]").click();
    await page.getByTestId("contacts").waitFor();
    const listId = page.url().split("/lists/")[1];
    expect(listId && listId.length > 8, `the new contact list opens (${listId})`);

    // One contact the API refuses: the whole request is, and the page names the line.
    const cform = page.getByTestId("contacts-form");
    await cform.locator("#f-contacts").fill(`${CTX.consented}, Consenting Contact\nnot a number, Nobody`);
    await cform.locator("button[type=submit]").click();
    const bad = cform.locator(".field.invalid .error-text");
    await bad.waitFor();
    expect((await bad.textContent()).startsWith("Line 2:"), `a contact that is no number is refused on its line: "${await bad.textContent()}"`);
    await cform.locator("#f-contacts").fill(`${CTX.consented}, Consenting Contact\n${CTX.unconsented}, Silent Contact`);
    await cform.locator("button[type=submit]").click();
    await cform.locator(".notice.ok", { hasText: "2 added" }).waitFor();
    // The same two from a CSV file (its header names the columns; another column is an attribute).
    const csv = `number,name,customer_id\n${CTX.consented},Consenting Contact,A-1\n${CTX.unconsented},Silent Contact,B-2\n`;
    await page.getByTestId("contacts-import").setInputFiles({ name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByText("contacts.csv: 0 added, 2 updated.").waitFor();
    const listed = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/contact-lists/${listId}/contacts`);
    expect(listed.body.items.length === 2 && listed.body.items.find((c) => c.number === CTX.consented)?.attributes?.customer_id === "A-1",
      "a CSV file updates the contacts, its extra column kept as an attribute (API)");
    const contacts = page.getByTestId("contacts");
    await contacts.getByTestId(`consent-${CTX.consented}`).getByText("no consent on record").waitFor();
    await contacts.getByTestId(`consent-${CTX.unconsented}`).getByText("no consent on record").waitFor();
    step("both contacts are listed, neither with consent on record yet");

    // The consent of the first, recorded from its row (who, how, the evidence).
    await page.getByTestId(`consent-for-${CTX.consented}`).click();
    const consent = page.getByTestId("consent-form");
    expect((await consent.locator("#f-number").inputValue()) === CTX.consented, "Record consent fills in the contact's number");
    await consent.locator("#f-channel").selectOption("sms");
    await consent.locator("#f-purpose").selectOption("marketing");
    await consent.locator("#f-method").selectOption("web-form");
    await consent.locator("#f-evidence").fill("Checkbox on example.com/spring, IP 192.0.2.7");
    await consent.locator("button[type=submit]").click();
    await consent.locator(".notice.ok").waitFor();
    await contacts.getByTestId(`consent-${CTX.consented}`).locator('[data-consent="sms marketing granted"]').waitFor();
    expect((await contacts.getByTestId(`consent-${CTX.unconsented}`).textContent()).includes("no consent on record"), "the consent is on record for the first contact only");
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "admin-contact-list");

    // The campaign: refused without its message (the API's 422 under the field), then started.
    await page.getByTestId("all-campaigns").click();
    const form = page.getByTestId("campaign-form");
    await form.locator("#f-name").fill("Spring offer");
    await form.locator("#f-list_id").selectOption({ label: "Spring list (2)" });
    await form.locator("#f-channel").selectOption("sms");
    await form.locator("#f-purpose").selectOption("marketing");
    await form.locator(`#f-from option[value="${CTX.from_number}"]`).waitFor({ state: "attached" });
    await form.locator("#f-from").selectOption(CTX.from_number);
    await form.locator("#f-rate_per_s").fill("5");
    await form.locator("button[type=submit]").click();
    const noBody = form.locator(".field.invalid", { has: page.locator("#f-body") }).locator(".error-text");
    await noBody.waitFor();
    expect(/body/.test(await noBody.textContent()), `a campaign without its message is refused: "${await noBody.textContent()}"`);
    await form.locator("#f-body").fill(CTX.text);
    await form.locator("button[type=submit]").click();
    await page.getByTestId("report").waitFor();
    const campaignId = page.url().split("/campaigns/")[1];
    console.log(`campaign-id: ${campaignId}`);

    // The report follows the runner without a reload.
    await page.getByTestId("campaign-status").filter({ hasText: /^completed$/ }).waitFor();
    await page.getByTestId("report-sent").filter({ hasText: /^1$/ }).waitFor();
    await page.getByTestId("report-skipped").filter({ hasText: /^1$/ }).waitFor();
    await page.getByTestId("report-delivered").filter({ hasText: /^1$/ }).waitFor();
    step("the campaign completes: 1 sent, 1 skipped, the sent one delivered");
    const noConsent = page.getByTestId("skipped-no_consent");
    expect((await noConsent.getByTestId("count").textContent()) === "1" && (await page.getByTestId("skipped-by-reason").locator("tr").count()) === 1,
      `skipped by reason: "${(await noConsent.textContent()).trim()}", and no other reason`);
    const sentTo = page.getByTestId(`recipient-${CTX.consented}`);
    const skippedTo = page.getByTestId(`recipient-${CTX.unconsented}`);
    expect((await sentTo.getAttribute("data-status")) === "sent", "the consenting contact was sent the message");
    expect((await skippedTo.getAttribute("data-status")) === "skipped" && (await skippedTo.getAttribute("data-reason")) === "no_consent",
      "the other was skipped for no consent");
    const report = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/campaigns/${campaignId}/report`);
    expect(report.body.sent === 1 && report.body.skipped_by_reason.no_consent === 1, `the API's report agrees: ${JSON.stringify(report.body)}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "admin-campaign-report");

    // The list of campaigns shows the same figures.
    await page.getByTestId("all-campaigns").click();
    const row = page.getByTestId("campaign-Spring offer");
    await row.getByTestId("sent").filter({ hasText: /^1$/ }).waitFor();
    expect((await row.getAttribute("data-status")) === "completed" && (await row.getByTestId("skipped").textContent()) === "1"
      && (await row.getByTestId("skipped-reasons").textContent()).includes("no consent: 1"),
      `the campaigns list shows its state and figures: "${(await row.textContent()).replace(/\s+/g, " ")}"`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "admin-campaign-list");

    // Scheduled for tomorrow, then cancelled.
    const at = new Date(Date.now() + 24 * 3600_000);
    const local = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")}T09:30`;
    await form.locator("#f-name").fill("Later offer");
    await form.locator("#f-list_id").selectOption({ label: "Spring list (2)" });
    await form.locator(`#f-from option[value="${CTX.from_number}"]`).waitFor({ state: "attached" });
    await form.locator("#f-from").selectOption(CTX.from_number);
    await form.locator("#f-body").fill("See you tomorrow");
    await form.locator("#f-start").selectOption("later");
    await form.locator("#f-scheduled_at").fill(local);
    await form.locator("button[type=submit]").click();
    await page.getByTestId("campaign-status").filter({ hasText: /^scheduled$/ }).waitFor();
    const later = page.url().split("/campaigns/")[1];
    const scheduled = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/campaigns/${later}`);
    expect(new Date(scheduled.body.scheduled_at).getTime() === new Date(local).getTime(), `scheduled for ${local} local time (${scheduled.body.scheduled_at})`);
    page.once("dialog", (d) => d.accept());
    await page.getByTestId("campaign-cancel").click();
    await page.getByTestId("campaign-status").filter({ hasText: /^canceled$/ }).waitFor();
    const canceled = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/campaigns/${later}`);
    expect(canceled.body.status === "canceled", "the scheduled campaign is cancelled (API)");

    // The consent ledger has the record, with who recorded it.
    await page.getByTestId("all-campaigns").click();
    await page.getByTestId("compliance-link").click();
    const ledger = page.getByTestId("consent-records").locator("tr", { hasText: CTX.consented });
    await ledger.waitFor();
    expect((await ledger.textContent()).includes("web-form"), "the consent ledger lists the record");
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "admin-campaign-consent");

    // A developer (CPaaS key) has the page too.
    await signOut(page);
    await signIn(page, CTX.developer_token, CTX.tenant_id);
    await page.getByTestId("nav-Campaigns").click();
    await page.getByTestId("campaign-Spring offer").getByTestId("sent").filter({ hasText: /^1$/ }).waitFor();
    step("a developer sees the campaigns and their figures");
  },

  async screenshots({ page }) {
    await signIn(page, CTX.operator_token);
    for (const [p, name] of [
      ["/op/tenants", "operator-tenants"], ["/op/numbers", "operator-numbers"], ["/op/rate-decks", "operator-rate-decks"],
      ["/op/port-orders", "operator-port-orders"], ["/op/billing", "operator-billing"], ["/op/trunks", "operator-trunks"], ["/op/alarms", "operator-alarms"],
      [`/op/tenants/${CTX.tenant_id}`, "operator-tenant"],
      // Call records are CPNI: the operator (or the CPNI administrator) reads them, not the office admin.
      [`/t/${CTX.tenant_id}/usage`, "admin-usage"], [`/t/${CTX.tenant_id}/calls`, "admin-calls"],
    ]) {
      await page.goto(`${BASE}${p}`);
      await page.locator("h1").waitFor();
      const picker = page.locator("#tenant-picker");
      if (await picker.count()) {
        await picker.locator(`option[value="${CTX.tenant_id}"]`).waitFor({ state: "attached" });
        await picker.selectOption(CTX.tenant_id);
      }
      await page.locator("table, .notice, .chart").first().waitFor();
      await shot(page, name);
    }
    await signIn(page, CTX.office_admin_token, CTX.tenant_id);
    for (const [p, name] of [
      ["users", "admin-users"], ["devices", "admin-devices"], ["numbers", "admin-numbers"], ["hunt-groups", "admin-hunt-groups"], ["queues", "admin-queues"],
      ["attendants", "admin-attendants"], ["e911", "admin-e911"], ["invoices", "admin-invoices"], ["audit", "admin-audit"], ["capacity", "admin-capacity"],
      ["campaigns", "admin-campaigns"],
    ]) {
      await page.goto(`${BASE}/t/${CTX.tenant_id}/${p}`);
      await page.locator("h1").waitFor();
      await page.locator("table, .notice, .chart, .stats").first().waitFor();
      if (p === "queues") await page.waitForTimeout(4500); // a few live points on the chart
      await shot(page, name);
    }
    await signInWithPassword(page, CTX.user_email, CTX.user_password);
    for (const [p, name] of [["me/voicemail", "user-voicemail"], ["me/settings", "user-forwarding"], ["me/e911", "user-e911"], ["/account", "user-security"]]) {
      await page.goto(p.startsWith("/") ? `${BASE}${p}` : `${BASE}/t/${CTX.tenant_id}/${p}`);
      await page.locator("h1").waitFor();
      await page.locator("table, .notice, form, .card").first().waitFor();
      await shot(page, name);
    }
    await page.goto(`${BASE}/login`);
    await page.locator(".login-card").waitFor();
    await shot(page, "login");
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`no scenario ${name}: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const env = await launch();
try {
  await scenarios[name](env);
  if (env.consoleErrors.length) throw new Error(`errors in the page: ${env.consoleErrors.join("; ")}`);
  console.log(`PASS ${name}`);
} catch (e) {
  console.error(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  try {
    if (SHOTS || process.env.CENTREX_FAIL_SHOT) await env.page.screenshot({ path: process.env.CENTREX_FAIL_SHOT ?? `${SHOTS}/failed-${name}.png` });
  } catch {}
  process.exitCode = 1;
} finally {
  await env.browser.close();
}
