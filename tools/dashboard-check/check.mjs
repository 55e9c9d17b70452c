// Loads the Chaser dashboard in headless Chromium against a running `chaser serve`, creates and executes a parent
// order through the API while the page is open, and reports what the page showed — without reloading it.
// usage: node check.mjs <base-url> <token> <screenshot.png> [cancel]   (CHROMIUM overrides /usr/bin/chromium)
// "cancel": the order is canceled from the page's cancel button instead (run it where nothing trades).
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
const result = { navigations: 0, foreign: [], errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on("request", (r) => { const u = r.url(); if (!u.startsWith(baseUrl) && !u.startsWith("blob:") && !u.startsWith("data:")) result.foreign.push(u); });
  page.on("pageerror", (e) => result.errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") result.errors.push(m.text()); });
  page.on("load", () => result.navigations++); // full page loads only (dropping the #token fragment is not one)

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
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
