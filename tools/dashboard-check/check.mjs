// Loads the Chaser dashboard in headless Chromium against a running `chaser serve`, creates and executes a parent
// order through the API while the page is open, and reports what the page showed — without reloading it.
// usage: node check.mjs <base-url> <token> <screenshot.png> [cancel|reasons]   (CHROMIUM overrides /usr/bin/chromium)
// "cancel": the order is canceled from the page's cancel button instead (run it where nothing trades).
// "reasons": what the page says before the token, a queued order and a failed one with their reasons, and a row click
// bringing the detail into view (run it where nothing trades, so the working order stays working).
import { chromium } from "playwright-core";

const [, , baseUrl, token, screenshot, mode] = process.argv;
const api = async (path, body) => {
  const response = await fetch(baseUrl + path, {
    method: body ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"],
});
const result = { navigations: 0, foreign: [], errors: [], charts: [] };
try {
  if (mode === "reasons") {
    await reasons();
  } else {
    await execution();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));

function watch(page) {
  page.on("request", (r) => { const u = r.url(); if (!u.startsWith(baseUrl) && !u.startsWith("blob:") && !u.startsWith("data:")) result.foreign.push(u); if (u.includes("/chart.png")) result.charts.push(u.slice(baseUrl.length)); });
  page.on("pageerror", (e) => result.errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") result.errors.push(m.text()); });
  page.on("load", () => result.navigations++); // full page loads only (dropping the #token fragment is not one)
}

// The text of an element the user can see, else null.
function visibleText(page, selector) {
  return page.evaluate((sel) => {
    const element = document.querySelector(sel);
    return element && element.checkVisibility() ? element.textContent.trim() : null;
  }, selector);
}

// A short window (the detail starts below the fold), the token typed in as a user would; three orders where nothing
// trades: one working, one queued behind it on the same symbol and side, and a reduce-only sell with no position,
// which the exchange refuses (-2022): a real failure with the venue's reason.
async function reasons() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 600 } });
  watch(page);
  await page.goto(`${baseUrl}/`);
  result.beforeToken = { needsToken: await visibleText(page, "#needs-token"), empty: await visibleText(page, "#empty"), connection: await visibleText(page, "#connection") };

  await page.fill("#token", token);
  await page.click("#login button");
  await page.waitForFunction(() => document.getElementById("connection").textContent === "live", null, { timeout: 20000 });
  await page.waitForFunction(() => !document.getElementById("empty").hidden, null, { timeout: 20000 });
  result.afterToken = { needsToken: await visibleText(page, "#needs-token"), empty: await visibleText(page, "#empty") };

  const [working, queued, refused] = await api("/api/orders", [
    { symbol: "ETHUSDT", side: -1, size: 200000, size_type: "n", strategy: "browser-check" },
    { symbol: "ETHUSDT", side: -1, size: 100000, size_type: "n", strategy: "browser-check" },
    { symbol: "BTCUSDT", side: -1, size: 0.01, size_type: "q", strategy: "browser-check", reduce_only: true },
  ]);
  Object.assign(result, { working: working.id, queued: queued.id, failed: refused.id });
  await api("/api/orders/execute", { ids: [working.id, queued.id] });
  await api("/api/orders/execute", { ids: [refused.id] });

  const row = (id) => `#orders tr[data-id="${id}"]`;
  const status = (id) => page.evaluate((sel) => document.querySelector(`${sel} .status`)?.textContent, row(id));
  await page.waitForFunction(([w, q, f]) => {
    const s = (id) => document.querySelector(`#orders tr[data-id="${id}"] .status`)?.textContent;
    return s(w) === "working" && s(q) === "queued" && s(f) === "failed";
  }, [working.id, queued.id, refused.id], { timeout: 60000 });
  result.rows = {};
  for (const [name, id] of [["working", working.id], ["queued", queued.id], ["failed", refused.id]]) {
    result.rows[name] = { status: await status(id), detail: await visibleText(page, `${row(id)} .status-detail`), cancel: await visibleText(page, `${row(id)} button.cancel`) };
  }

  // The failed order's row, clicked at the top of the page: its detail comes into view, saying why.
  await page.evaluate(() => window.scrollTo(0, 0));
  result.scrollYBefore = await page.evaluate(() => window.scrollY);
  await page.click(row(refused.id));
  await page.waitForFunction(() => document.getElementById("detail-status").checkVisibility() && document.getElementById("chart").naturalWidth > 0, null, { timeout: 30000 });
  result.detail = {
    title: await visibleText(page, "#detail-title"),
    status: await visibleText(page, "#detail-status"),
    top: await page.evaluate(() => document.getElementById("detail").getBoundingClientRect().top),
    offsetTop: await page.evaluate(() => document.getElementById("detail").offsetTop),
    scrollY: await page.evaluate(() => window.scrollY),
    viewport: page.viewportSize().height,
  };
  await page.screenshot({ path: screenshot });

  // Leave nothing working behind.
  for (const id of [queued.id, working.id]) await api(`/api/orders/${id}/cancel`, {});
  await page.waitForFunction(([w, q]) => [w, q].every((id) => document.querySelector(`#orders tr[data-id="${id}"] .status`)?.textContent === "canceled"), [working.id, queued.id], { timeout: 30000 });
  result.canceled = { queued: await visibleText(page, `${row(queued.id)} .status-detail`) };
}

async function execution() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  watch(page);

  await page.goto(`${baseUrl}/#token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => document.getElementById("connection").textContent === "live", null, { timeout: 20000 });

  // Record every state the order's row goes through, as the page draws it.
  await page.evaluate(() => {
    window.seen = [];
    new MutationObserver(() => {
      for (const row of document.querySelectorAll("#orders tbody tr")) {
        const entry = `${row.dataset.id}|${row.querySelector(".status")?.textContent}|${row.querySelector(".bar")?.getAttribute("aria-valuenow")}`;
        if (window.seen.at(-1) !== entry && !window.seen.includes(entry)) window.seen.push(entry);
      }
    }).observe(document.getElementById("orders"), { subtree: true, childList: true, characterData: true, attributes: true });
  });

  const [order] = await api("/api/orders", [{ symbol: "ETHUSDT", side: -1, size: 200000, size_type: "n", strategy: "browser-check", price_expected: 3400 }]);
  result.order = order.id;
  await api("/api/orders/execute", { ids: [order.id] });
  const row = `#orders tr[data-id="${order.id}"]`;
  if (mode === "cancel") {
    await page.waitForSelector(`${row} button.cancel`, { timeout: 30000 });
    page.once("dialog", (dialog) => { result.dialog = dialog.message(); dialog.accept(); });
    await page.click(`${row} button.cancel`);
  }

  await page.waitForFunction((sel) => ["filled", "canceled", "expired", "failed"].includes(document.querySelector(`${sel} .status`)?.textContent), row, { timeout: 120000 });
  result.selected = await page.evaluate(() => window.chaser.selected);

  await page.click(row);
  await page.waitForFunction(() => document.getElementById("chart").naturalWidth > 0, null, { timeout: 30000 });
  // A canceled order in a market where nothing trades has no fills to list.
  await page.waitForFunction((canceling) => (canceling || document.querySelectorAll("#fills tbody tr").length > 0) && document.querySelectorAll("#aggregates tbody tr").length > 0, mode === "cancel", { timeout: 30000 });
  result.states = (await page.evaluate(() => window.seen)).filter((s) => s.startsWith(`${order.id}|`)).map((s) => s.split("|").slice(1));
  result.updates = await page.evaluate(() => window.chaser.updates);
  result.fillRows = await page.evaluate(() => document.querySelectorAll("#fills tbody tr").length);
  result.chartWidth = await page.evaluate(() => document.getElementById("chart").naturalWidth);
  result.metrics = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#metrics dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  await page.screenshot({ path: screenshot, fullPage: true });
}
