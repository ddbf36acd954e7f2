// Browser scenarios of the portal's operator tasks, the auto attendant's editor and the fair-use
// page (issue 18 §2), driven by playwright-core in Debian's chromium; run by
// tests/portal/test_portal_gaps_browser.py against a real `centrex serve`:
//   CENTREX_URL=http://127.0.0.1:port CENTREX_CTX='{...}' node tests/gaps.mjs <scenario>
// Prints one "ok: ..." line per checked step; exits non-zero (with the reason) on the first failure.
import { chromium } from "playwright-core";

const BASE = process.env.CENTREX_URL;
const CTX = JSON.parse(process.env.CENTREX_CTX ?? "{}");
const SHOTS = process.env.CENTREX_SHOTS ?? "";
const TIMEOUT = Number(process.env.CENTREX_BROWSER_TIMEOUT_MS ?? 60000);

const step = (msg) => console.log(`ok: ${msg}`);
function expect(cond, msg) {
  if (!cond) throw new Error(`expected: ${msg}`);
  step(msg);
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
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

async function api(page, path, init = {}) {
  return page.evaluate(
    async ([path, init]) => {
      const token = sessionStorage.getItem("centrex.token");
      const res = await fetch(path, {
        ...init,
        headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [path, init],
  );
}

async function shot(page, name) {
  if (!SHOTS) return;
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
  step(`screenshot ${name}.png`);
}

/** Watch the task element until it ends; every state it showed, in order. */
async function watchTask(page, timeoutMs = TIMEOUT * 3) {
  const task = page.getByTestId("task");
  await task.waitFor();
  const seen = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await task.evaluate((el) => ({
      status: el.dataset.status, phase: el.dataset.phase, done: Number(el.dataset.done), total: el.dataset.total === "" ? null : Number(el.dataset.total),
      count: el.querySelector("[data-testid=task-count]")?.textContent ?? null, bar: !!el.querySelector("progress"),
    }));
    const last = seen[seen.length - 1];
    if (!last || last.status !== s.status || last.done !== s.done || last.phase !== s.phase) seen.push(s);
    if (s.status !== "running") return seen;
    if (Date.now() > end) throw new Error(`task still running: ${JSON.stringify(s)}`);
    await page.waitForTimeout(50);
  }
}

const scenarios = {
  async tasks({ page }) {
    await signIn(page, CTX.operator_token);
    await page.getByTestId("nav-Rate decks").click();
    const form = page.getByTestId("deck-import");
    await form.locator("#f-deck-name").fill("world");
    await form.locator("#f-csv").setInputFiles(CTX.big_deck_path);
    await form.locator("button[type=submit]").click();
    const seen = await watchTask(page);
    const moving = seen.filter((s) => s.status === "running" && s.bar && s.total === CTX.big_deck_rows && s.done > 0 && s.done < s.total);
    expect(moving.length > 0, `the import's progress shows part-way: ${moving.map((s) => `${s.phase} ${s.count}`).join(" → ")}`);
    expect(seen.some((s) => s.phase === "storing"), "the page shows the rows being stored");
    const done = seen[seen.length - 1];
    expect(done.status === "done" && done.done === CTX.big_deck_rows, `the import finishes (${done.done} rows)`);
    const notice = page.getByTestId("task").locator(".notice.ok");
    expect((await notice.textContent()).includes(`${CTX.big_deck_rows.toLocaleString()} rows into world`), `the result is shown: "${await notice.textContent()}"`);
    await page.locator("table tr", { hasText: "world" }).waitFor();
    step("the decks table lists the new deck");
    const decks = await api(page, "/api/v1/rate-decks");
    expect(decks.body.some((d) => d.name === "world" && d.rows === CTX.big_deck_rows), "the API has the deck with every row");

    // A bad deck: the task fails and the page names the line and the field.
    await form.locator("#f-deck-name").fill("broken");
    await form.locator("#f-csv").setInputFiles(CTX.bad_deck_path);
    await form.locator("button[type=submit]").click();
    await page.locator("[data-testid=task][data-status=failed]").waitFor();
    const where = await page.getByTestId("task-error-field").textContent();
    expect(where === "line 3: rate_per_minute", `a bad deck's line and field are shown: "${where}"`);
    await shot(page, "operator-rate-deck-import");

    // The billing run of a month, every tenant with a plan, with progress, then its result.
    await page.getByTestId("nav-Billing").click();
    const run = page.getByTestId("billing-run");
    await run.locator("#f-run-period").fill(CTX.billing_period);
    await run.locator("button[type=submit]").click();
    const runSeen = await watchTask(page);
    const last = runSeen[runSeen.length - 1];
    expect(last.status === "done" && last.total === CTX.planned_tenants && last.done === last.total, `the billing run finishes: ${last.done} of ${last.total} tenants`);
    const summary = await page.getByTestId("billing-run-summary").textContent();
    expect(summary.includes(`${CTX.planned_tenants} invoices issued for ${CTX.billing_period}`), `its summary is shown: "${summary}"`);
    const row = page.getByTestId("billing-run-rows").locator("tr", { hasText: CTX.tenant_name });
    const invoice = (await row.locator("td").nth(1).textContent()).trim();
    expect(invoice.length > 0 && invoice !== "—", `the demo tenant's invoice is listed: ${invoice}`);
    const invoices = await api(page, `/api/v1/tenants/${CTX.tenant_id}/billing/invoices`);
    expect(invoices.body.items.some((i) => i.number === invoice), "the API has that invoice");
    await shot(page, "operator-billing-run");
    // Run again: nothing more is issued, the page says so.
    const first = await page.getByTestId("task").getAttribute("data-id");
    await run.locator("button[type=submit]").click();
    await page.locator(`[data-testid=task][data-status=done]:not([data-id="${first}"])`).waitFor();
    const again = await page.getByTestId("billing-run-summary").textContent();
    expect(again.startsWith("0 invoices issued"), `a second run issues nothing: "${again}"`);
  },

  async attendant({ page }) {
    await signIn(page, CTX.office_admin_token, CTX.tenant_id);
    await page.getByTestId("nav-Auto attendants").click();
    const form = page.locator("form", { hasText: "Create menu" });
    for (const [name, ext] of [["After hours", "7101"], ["Main menu", "7100"]]) {
      await form.locator("#f-name").fill(name);
      await form.locator("#f-extension").fill(ext);
      await form.locator("#f-operator_extension").fill(CTX.operator_ext);
      await form.locator("button[type=submit]").click();
      await form.locator(".notice.ok").waitFor();
      await page.getByTestId(`menu-${name}`).waitFor();
    }
    step("two menus created");
    await page.getByTestId("menu-Main menu").click();
    await page.locator("h1", { hasText: "Menu: Main menu" }).waitFor();
    const add = page.getByRole("button", { name: "+ Add an option" });
    const rows = page.getByTestId("aa-options").locator("tbody tr[data-digit]");
    // 1: an extension (a user), 2: a sub-menu, 3: voicemail of a user, 9: to be removed.
    await add.click();
    await rows.nth(0).locator("select[name='options.0.target']").selectOption(CTX.ext_a);
    await rows.nth(0).locator("input[name='options.0.label']").fill("sales");
    await add.click();
    await rows.nth(1).locator("select[name='options.1.action']").selectOption("sub_menu");
    await rows.nth(1).locator("select[name='options.1.target']").selectOption({ label: "After hours" });
    await add.click();
    await rows.nth(2).locator("select[name='options.2.action']").selectOption("voicemail");
    await rows.nth(2).locator("select[name='options.2.target']").selectOption({ index: 1 });
    await add.click();
    await rows.nth(3).locator("select[name='options.3.digit']").selectOption("9");
    await rows.nth(3).locator("select[name='options.3.action']").selectOption("repeat");
    expect((await rows.count()) === 4, "four options in the editor");
    await rows.nth(3).getByRole("button", { name: "Remove" }).click();
    expect((await rows.count()) === 3, "one removed");
    // Business hours: weekdays 9–5, after hours the other menu, one holiday.
    await page.locator("input[name=scheduled]").check();
    await page.locator("#f-zone").fill("America/Chicago");
    await page.locator("#f-after").selectOption({ label: "After hours" });
    await page.getByRole("button", { name: "Weekdays 9–5" }).click();
    await page.getByRole("button", { name: "+ Add a holiday" }).click();
    await page.getByTestId("aa-holidays").locator("input[type=date]").fill("2026-12-25");
    await page.getByTestId("aa-holidays").locator("input[aria-label='holiday name']").fill("Christmas Day");
    await page.getByTestId("aa-save").click();
    await page.locator(".notice.ok", { hasText: "Saved: 3 options, business hours on" }).waitFor();
    step("the menu is saved");
    const menus = await api(page, `/api/v1/tenants/${CTX.tenant_id}/attendants?limit=50`);
    const main = menus.body.items.find((m) => m.name === "Main menu");
    const after = menus.body.items.find((m) => m.name === "After hours");
    const opts = Object.fromEntries(main.options.map((o) => [o.digit, `${o.action}:${o.target}`]));
    expect(opts["1"] === `extension:${CTX.ext_a}` && opts["2"] === `sub_menu:${after.id}` && opts["3"]?.startsWith("voicemail:") && !opts["9"],
      `the API has the options: ${JSON.stringify(opts)}`);
    expect(main.options.find((o) => o.digit === "1").label === "sales", "with the label");
    const sched = main.schedule;
    expect(sched && sched.time_zone === "America/Chicago" && sched.after_hours_menu_id === after.id && sched.hours.length === 5 && sched.hours.every((h) => h.opens.startsWith("09:00") && h.closes.startsWith("17:00")),
      "the API has business hours Monday to Friday 9–5 with the after-hours menu");
    expect(sched.holidays.length === 1 && sched.holidays[0].day === "2026-12-25" && sched.holidays[0].name === "Christmas Day", "and the holiday");
    await shot(page, "admin-attendant-editor");

    // Reload: the editor shows what is stored; change an option's target to one the API refuses.
    await page.reload();
    await page.locator("h1", { hasText: "Menu: Main menu" }).waitFor();
    expect((await rows.count()) === 3 && (await page.locator("#f-after").inputValue()) === after.id, "the editor shows the stored menu after a reload");
    await rows.nth(0).locator("select[name='options.0.action']").selectOption("hunt_group");
    await page.getByTestId("aa-save").click();
    const err = rows.nth(0).locator(".error-text");
    await err.waitFor();
    expect((await err.textContent()).includes("options.0.target"), `the API's refusal is shown on the row: "${await err.textContent()}"`);
    // Turn the schedule off and remove an option: saved as such.
    await rows.nth(0).getByRole("button", { name: "Remove" }).click();
    await page.locator("input[name=scheduled]").uncheck();
    await page.getByTestId("aa-save").click();
    await page.locator(".notice.ok", { hasText: "Saved: 2 options" }).waitFor();
    const again = await api(page, `/api/v1/tenants/${CTX.tenant_id}/attendants/${main.id}`);
    expect(again.body.options.length === 2 && again.body.schedule === null, "the API has two options and no schedule");
  },

  async fairuse({ page }) {
    await signIn(page, CTX.office_admin_token, CTX.tenant_id);
    const nav = await page.locator(".nav-section a").allTextContents();
    const at = nav.indexOf("Fair use");
    expect(at > 0 && nav[at - 1] === "Capacity", `"Fair use" is in the office's navigation beside Capacity: ${nav.join(", ")}`);
    await page.getByTestId("nav-Fair use").click();
    const table = page.getByTestId("fair-use");
    const row = table.locator("tr[data-state=noticed]");
    await row.waitFor();
    const text = await row.textContent();
    expect(text.includes("Toll-free over 10% of minutes") && text.includes(CTX.finding_subject) && text.includes("toll free share"), `the finding is shown with its evidence: ${text}`);
    expect((await page.getByTestId("fair-use-open").textContent()) === "1", "one open finding");
    await shot(page, "admin-fair-use");
    // Another tenant's administrator sees none of it.
    await signIn(page, CTX.other_admin_token, CTX.other_tenant_id);
    await page.goto(`${BASE}/t/${CTX.tenant_id}/fair-use`);
    await page.locator(".notice.error", { hasText: "Not found." }).waitFor();
    const html = await page.content();
    expect(!html.includes("Toll-free over 10%") && !html.includes("toll free minutes"), "another tenant's administrator gets Not found and no finding");
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
    if (process.env.CENTREX_FAIL_SHOT) await env.page.screenshot({ path: process.env.CENTREX_FAIL_SHOT });
  } catch {}
  process.exitCode = 1;
} finally {
  await env.browser.close();
}
