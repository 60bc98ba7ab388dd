// The web UI in a real browser (Debian's Chromium, driven by playwright-core), as an on-call
// engineer uses it: file a SEV, post an update, add an SCA, mitigate and resolve, read the
// timeline; then the XSS and double-submit cases. Screenshots of each main page go to OUT_DIR.
//
// The SEV page and the list are also watched keeping themselves current while open.
//
// Usage: node web.mjs BASE_URL OUT_DIR   (tests/browser.rs starts sevtool and runs this)

import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error("usage: node web.mjs BASE_URL OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/lib/chromium/chromium",
  // This machine's network is closed: keep Chromium from reaching out at start.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const dialogs = [];
page.on("dialog", async (d) => {
  dialogs.push(d.message());
  await d.dismiss();
});
const shot = (name) => page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
const timeline = () => page.locator("ol.timeline li").allTextContents();
const sevsTitled = async (title) => {
  const r = await page.request.get(`${base}/api/sevs`);
  assert.equal(r.status(), 200);
  return (await r.json()).sevs.filter((s) => s.title === title);
};

async function fileSev(title, level, details) {
  await page.goto(`${base}/sevs/new`);
  await page.fill("#title", title);
  await page.check(`#level-${level}`);
  if (details) await page.fill("#description", details);
  await Promise.all([page.waitForURL(/\/sevs\/SEV-\d+$/), page.click("button[type=submit]")]);
}

let step = "file a SEV";
try {
  await page.goto(`${base}/sevs/new`);
  await shot("new");
  await fileSev("Checkout returns 502 for EU customers", "SEV1", "Started after deploy 4812");
  const sevUrl = page.url();
  await assert.doesNotReject(page.locator("h1", { hasText: "Checkout returns 502 for EU customers" }).waitFor());

  step = "post an update";
  await page.fill("input[name=text][aria-label='Status update']", "Rolled back 4812; error rate falling");
  await Promise.all([page.waitForURL(sevUrl), page.click("text=Post update")]);

  step = "add an SCA";
  await page.fill("input[aria-label='Corrective action']", "Canary deploys for checkout");
  await page.selectOption("select[aria-label='Priority']", "must");
  await page.fill("input[aria-label='Owner']", "dana");
  await Promise.all([page.waitForURL(sevUrl), page.click("text=Add SCA")]);
  const scaRow = page.locator("table tr", { hasText: "Canary deploys for checkout" });
  assert.match(await scaRow.textContent(), /must.*dana.*\d{4}-\d\d-\d\d.*open/s);

  step = "mitigate, then resolve";
  for (const status of ["mitigated", "resolved"]) {
    await page.selectOption("select[aria-label='New status']", status);
    await Promise.all([page.waitForURL(sevUrl), page.click("text=Change status")]);
    assert.equal((await page.locator(".card .status").first().textContent()).trim(), status);
  }
  await shot("sev");

  step = "read the timeline";
  const entries = await timeline();
  const expected = [
    /Filed as SEV1/,
    /Rolled back 4812; error rate falling/,
    /SCA-\d+.*Canary deploys for checkout/,
    /Status changed from \w+ to mitigated/,
    /Status changed from mitigated to resolved/,
  ];
  let at = -1;
  for (const re of expected) {
    const found = entries.findIndex((e, i) => i > at && re.test(e));
    assert.ok(found > at, `timeline lacks ${re} after entry ${at}: ${JSON.stringify(entries)}`);
    at = found;
  }

  step = "the SEV page keeps up while someone types";
  const sevId = sevUrl.split("/").pop();
  const typing = "half-written update, not sent";
  await page.fill("input[name=text][aria-label='Status update']", typing);
  const posted = await page.request.post(`${base}/api/sevs/${sevId}/updates`, {
    data: { text: "Posted from elsewhere while the page was open" },
  });
  assert.equal(posted.status(), 201);
  await page.locator("ol.timeline li", { hasText: "Posted from elsewhere while the page was open" })
    .waitFor({ timeout: 15000 });
  assert.equal(await page.inputValue("input[name=text][aria-label='Status update']"), typing,
    "what was being typed is kept");
  assert.match(await page.locator("#live-status").textContent(), /^Live/);
  await shot("live");

  step = "the SEV list";
  await page.goto(`${base}/`);
  assert.ok(await page.locator("text=Checkout returns 502 for EU customers").count() >= 1);
  const filed = await page.request.post(`${base}/api/sevs`, { data: { title: "Filed while the list was open", level: "SEV2" } });
  assert.equal(filed.status(), 201);
  await page.locator("text=Filed while the list was open").waitFor({ timeout: 15000 });
  await shot("list");

  step = "a title that is a script renders as text";
  const xss = "<script>alert(1)</script>";
  await fileSev(xss, "SEV3");
  assert.equal((await page.locator("h1").textContent()).includes(xss), true);
  await page.goto(`${base}/`);
  await page.waitForLoadState("load");
  assert.deepEqual(dialogs, [], "no script ran");

  step = "double submit files one SEV";
  const twice = `Double click ${Date.now()}`;
  await page.goto(`${base}/sevs/new`);
  await page.fill("#title", twice);
  await page.check("#level-SEV2");
  // Two clicks as fast as a browser takes them, then the same form again after going back.
  await page.locator("button[type=submit]").dblclick();
  await page.waitForURL(/\/sevs\/SEV-\d+$/);
  await page.goBack();
  await page.fill("#title", twice);
  await Promise.all([page.waitForURL(/\/sevs\/SEV-\d+$/), page.click("button[type=submit]")]);
  assert.equal((await sevsTitled(twice)).length, 1, "one SEV for one form");

  step = "the reports page";
  await page.goto(`${base}/reports`);
  assert.ok(await page.locator("svg").count() >= 1, "charts are drawn");
  await shot("reports");
  console.log(`browser: all steps passed; screenshots in ${outDir}`);
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(`browser step "${step}" failed at ${page.url()}:\n${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
