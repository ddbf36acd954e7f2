// The Insights page in a real browser (issue 20 §3), driven by playwright-core in Debian's chromium
// against a real `centrex serve` (tests/portal/test_insights_browser.py):
//   CENTREX_URL=http://127.0.0.1:port CENTREX_CTX='{"tenant_id": ...}' node tests/insights.mjs
// Prints one "ok: ..." line per checked step; exits non-zero (with the reason) on the first failure.
import { chromium } from "playwright-core";

const BASE = process.env.CENTREX_URL;
const CTX = JSON.parse(process.env.CENTREX_CTX ?? "{}");
const TIMEOUT = Number(process.env.CENTREX_BROWSER_TIMEOUT_MS ?? 30000);

const step = (msg) => console.log(`ok: ${msg}`);
function expect(cond, msg) {
  if (!cond) throw new Error(`expected: ${msg}`);
  step(msg);
}

async function totals(page) {
  const read = async (id) => Number(await page.getByTestId(`total-${id}`).textContent());
  return { calls: await read("calls.started"), unanswered: await read("calls.unanswered"), delivered: await read("messages.delivered") };
}

async function waitTotals(page, want, what) {
  const deadline = Date.now() + TIMEOUT;
  let got;
  while (Date.now() < deadline) {
    got = await totals(page).catch(() => null);
    if (got && got.calls === want.calls && got.unanswered === want.unanswered && got.delivered === want.delivered) {
      step(`${what}: ${got.calls} calls, ${got.unanswered} not answered, ${got.delivered} messages delivered`);
      return;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`expected ${what}: ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
context.setDefaultTimeout(TIMEOUT);
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
try {
  await page.goto(`${BASE}/login`);
  await page.getByTestId("token-tab").click();
  await page.locator("#f-token").fill(CTX.office_admin_token);
  await page.getByTestId("token-form").locator("button[type=submit]").click();
  await page.getByTestId("who").waitFor();
  await page.getByTestId("nav-Insights").click();
  await page.getByTestId("insights-dashboard").waitFor();
  expect(page.url().endsWith(`/t/${CTX.tenant_id}/insights`), "the office administrator opens Insights from the menu");
  await waitTotals(page, CTX.all, "the last 24 hours, every location");

  for (const id of ["chart-calls", "chart-messages", "chart-flows"]) {
    const box = await page.getByTestId(id).locator("canvas").boundingBox();
    expect(box && box.width > 100 && box.height > 100, `${id} is drawn (${Math.round(box?.width ?? 0)}x${Math.round(box?.height ?? 0)})`);
  }
  const drawn = await page.getByTestId("chart-calls").locator("canvas").evaluate((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  expect(drawn > 500, `the calls chart has ink (${drawn} pixels)`);
  const sites = await page.getByTestId("insights-sites").textContent();
  expect(sites.includes(CTX.site_b_name), `the locations table names ${CTX.site_b_name}`);

  const filters = page.getByTestId("insights-filter-form");
  await filters.locator("#f-site").selectOption({ label: CTX.site_b_name });
  await filters.locator("button[type=submit]").click();
  await waitTotals(page, CTX.site_b, `filtered by location ${CTX.site_b_name}`);

  await filters.locator("#f-site").selectOption({ label: "all locations" });
  await filters.locator("#f-party").fill(CTX.party);
  await filters.locator("button[type=submit]").click();
  await waitTotals(page, CTX.by_party, `filtered by party ${CTX.party}`);
  const parties = await page.getByTestId("insights-parties").textContent();
  expect(parties.includes(CTX.party), "the top parties list the party");

  await filters.locator("#f-party").fill("");
  await filters.locator("#f-tier").selectOption("minute");
  await filters.locator("#f-hours").selectOption("1");
  await filters.locator("button[type=submit]").click();
  await waitTotals(page, CTX.last_hour, "the real-time tier, last hour");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  const path = await download.path();
  const { readFileSync } = await import("node:fs");
  const csv = readFileSync(path, "utf8");
  expect(csv.startsWith("metric,tier,bucket_start,count,total") && csv.includes("calls.started,minute,"), "the CSV report downloads with the minute buckets");

  const rule = page.getByTestId("insights-rule-form");
  await rule.locator("#f-name").fill("Missed calls spike");
  await rule.locator("#f-metric").selectOption("calls.unanswered");
  await rule.locator("#f-threshold").fill("3");
  await rule.locator("button[type=submit]").click();
  await rule.locator(".notice.ok").waitFor();
  await page.getByTestId("insights-rules").getByText("Missed calls spike").waitFor();
  const rules = await page.evaluate(async (t) => {
    const res = await fetch(`/api/v1/tenants/${t}/insights/alerts`, { headers: { Authorization: `Bearer ${sessionStorage.getItem("centrex.token")}` } });
    return res.json();
  }, CTX.tenant_id);
  const made = rules.items.find((r) => r.name === "Missed calls spike");
  expect(made && made.metric === "calls.unanswered" && Number(made.threshold) === 3, "the API has the alert rule");
  if (errors.length) throw new Error(`errors in the page: ${errors.join("; ")}`);
  console.log("PASS insights");
} catch (e) {
  console.error(`FAIL insights: ${e && e.stack ? e.stack : e}`);
  try {
    if (process.env.CENTREX_FAIL_SHOT) await page.screenshot({ path: process.env.CENTREX_FAIL_SHOT, fullPage: true });
  } catch {}
  process.exitCode = 1;
} finally {
  await browser.close();
}
