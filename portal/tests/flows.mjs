// The flow designer in Debian's chromium (playwright-core), run by
// tests/portal/test_portal_flows_browser.py against a real `centrex serve`:
//   CENTREX_URL=http://127.0.0.1:port CENTREX_CTX='{"tenant_id": ...}' node tests/flows.mjs designer
// An office administrator signs in, creates a flow, drags a widget from the palette onto the canvas,
// edits a property, saves a draft the API refuses (its 422 is shown), connects the trigger's
// incomingMessage port to the widget, moves it, saves the draft (warnings shown) and publishes. Prints "ok: ..." per checked step
// and the flow's id (for the API checks of the Python test); exits non-zero on the first failure.
import { chromium } from "playwright-core";

const BASE = process.env.CENTREX_URL;
const CTX = JSON.parse(process.env.CENTREX_CTX ?? "{}");
const SHOTS = process.env.CENTREX_SHOTS ?? "";
const TIMEOUT = Number(process.env.CENTREX_BROWSER_TIMEOUT_MS ?? 30000);

const step = (msg) => console.log(`ok: ${msg}`);
function expect(cond, msg) {
  if (!cond) throw new Error(`expected: ${msg}`);
  step(msg);
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  return { browser, page, consoleErrors };
}

async function center(locator) {
  const b = await locator.boundingBox();
  if (!b) throw new Error("not on screen");
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** A pointer drag as a hand makes it: press, move in steps, release (React Flow listens to these). */
async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 8 });
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
}

async function apiFromPage(page, path) {
  return page.evaluate(async (path) => {
    const res = await fetch(path, { credentials: "same-origin" });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, path);
}

const scenarios = {
  async designer({ page }) {
    // Sign in as the office administrator (password, session cookie).
    await page.goto(`${BASE}/login`);
    const login = page.getByTestId("login-form");
    await login.locator("#f-email").fill(CTX.admin_email);
    await login.locator("#f-password").fill(CTX.admin_password);
    await login.locator("button[type=submit]").click();
    await page.getByTestId("who").waitFor();
    await page.getByTestId("nav-Flows").click();
    await page.getByTestId("flows").waitFor();
    step("the office administrator has a Flows page");

    const form = page.getByTestId("flow-form");
    await form.locator("#f-friendly_name").fill("Designer test flow");
    await form.locator("button[type=submit]").click();
    await page.getByTestId("node-Trigger").waitFor();
    const flowId = page.url().split("/flows/")[1];
    expect(flowId && flowId.length > 8, `the new flow opens in the designer (${flowId})`);
    console.log(`flow-id: ${flowId}`);

    // A widget from the palette, dragged onto the canvas (HTML5 drag and drop).
    const canvas = page.getByTestId("flow-canvas");
    const box = await canvas.boundingBox();
    await page.getByTestId("palette-send-message").dragTo(canvas, { targetPosition: { x: box.width / 2, y: box.height * 0.75 } });
    const node = page.getByTestId("node-send_message_1");
    await node.waitFor();
    step("a send-message widget dragged from the palette is on the canvas");
    await page.locator("#p-body").waitFor();
    step("its properties are shown in the panel");
    await page.locator("#p-body").fill("Hello from the designer");

    // A draft the API refuses shows the API's 422 and where the problem is: a widget name with a
    // space and a "!" (the schema allows letters, digits, _ and -; the page has no rule of its own).
    const result = page.getByTestId("flow-result");
    await page.locator("#p-name").fill("send message!");
    await page.locator("#p-name").press("Enter");
    await page.getByTestId("node-send message!").waitFor();
    await page.getByTestId("flow-save").click();
    await result.locator(".notice.error").waitFor();
    const refused = (await result.textContent()).trim();
    expect(/refused \(422\)/.test(refused) && refused.includes("states/1/name"), `a bad widget name is refused with the API's 422: "${refused}"`);
    await page.locator("#p-name").fill("send_message_1");
    await page.locator("#p-name").press("Enter");
    await node.waitFor();
    // Saved before it is connected: the lint's warnings are listed and marked on the widget.
    await page.getByTestId("flow-save").click();
    await result.getByTestId("flow-warnings").waitFor();
    const warned = (await result.getByTestId("flow-warnings").textContent()).trim();
    expect(/send_message_1.*unreachable/.test(warned), `the lint's warnings are shown: "${warned}"`);
    await node.locator(".flow-node-warn").waitFor();
    step("the unreachable widget is marked on the canvas");

    // Connect the trigger's incomingMessage port to the new widget's input.
    await drag(page, await center(page.getByTestId("port-Trigger-incomingMessage")), await center(page.getByTestId("in-send_message_1")));
    const edge = page.getByTestId("rf__edge-Trigger:t0");
    await edge.waitFor();
    expect((await edge.textContent()).includes("incomingMessage"), "the trigger's incomingMessage transition is drawn to send_message_1, labelled");

    // Move the widget by dragging it: its offset changes.
    const before = await center(node.locator(".flow-node-name"));
    await drag(page, before, { x: before.x + 160, y: before.y + 40 });
    const after = await center(node.locator(".flow-node-name"));
    expect(after.x > before.x + 100, "the widget moved with the pointer");

    await page.getByTestId("flow-save").click();
    await result.locator(".notice.ok", { hasText: /no warnings/ }).waitFor();
    const saved = await result.textContent();
    expect(/Draft saved as revision \d+, no warnings/.test(saved), `the connected draft is saved without warnings: "${saved.trim()}"`);

    await page.getByTestId("flow-publish").click();
    await result.getByText(/Revision \d+ published/).waitFor();
    step(`published: "${(await result.textContent()).trim()}"`);
    await page.getByTestId("flow-revisions").getByText("published").first().waitFor();
    step("the revision list shows the published revision");
    if (SHOTS) {
      await page.locator(".react-flow__controls-fitview").click();
      await page.waitForTimeout(600);
      await page.screenshot({ path: `${SHOTS}/admin-flows.png`, fullPage: false });
      step("screenshot admin-flows.png");
    }

    const flow = await apiFromPage(page, `/api/v1/tenants/${CTX.tenant_id}/flows/${flowId}`);
    expect(flow.status === 200 && flow.body.published, "the API has a published revision");
  },

  async developer({ page }) {
    // A developer (CPaaS key) signs in with the token: the flows are their home page.
    await page.goto(`${BASE}/login`);
    await page.getByTestId("token-tab").click();
    await page.locator("#f-token").fill(CTX.developer_token);
    await page.locator("#f-tenant").fill(CTX.tenant_id);
    await page.getByTestId("token-form").locator("button[type=submit]").click();
    await page.getByTestId("flows").waitFor();
    expect(page.url().endsWith(`/t/${CTX.tenant_id}/flows`), "a developer lands on the Flows page");
    expect((await page.getByTestId("nav-Flows").count()) === 1 && (await page.getByTestId("nav-Users").count()) === 0, "their navigation has Flows and no office pages");
    await page.getByTestId(`flow-${CTX.developer_flow}`).click();
    await page.getByTestId("node-ask").waitFor();
    const edge = page.getByTestId("rf__edge-Trigger:t2");
    await edge.waitFor();
    expect((await edge.textContent()).includes("incomingRequest"), "a flow made through the API opens as a graph: the trigger's incomingRequest edge to 'ask'");

    // Import a Studio export from disk; it opens in the designer; its export keeps the layout.
    await page.getByTestId("nav-Flows").click();
    const studio = {
      description: "Studio export",
      initial_state: "Trigger",
      flags: { allow_concurrent_calls: true },
      states: [
        { name: "Trigger", type: "trigger", transitions: [{ event: "incomingMessage", next: "reply_1" }, { event: "incomingCall" }, { event: "incomingRequest" }], properties: { offset: { x: 10, y: 20 } } },
        { name: "reply_1", type: "send-message", transitions: [{ event: "sent" }, { event: "failed" }], properties: { body: "Imported", offset: { x: 410, y: 330 } } },
      ],
    };
    await page.getByTestId("flow-import").setInputFiles({ name: "studio-export.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(studio)) });
    await page.getByTestId("node-reply_1").waitFor();
    expect(await page.getByTestId("rf__edge-Trigger:t0").isVisible(), "an imported Studio flow opens with its transition drawn");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("flow-export").click()]);
    const { readFile } = await import("node:fs/promises");
    const exported = JSON.parse(await readFile(await download.path(), "utf8"));
    const reply = exported.states.find((st) => st.name === "reply_1");
    expect(reply && reply.properties.offset.x === 410 && reply.properties.offset.y === 330, `the exported JSON (${download.suggestedFilename()}) keeps the layout offsets`);
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
