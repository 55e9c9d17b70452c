// The screenshots in docs/, from a real run: starts `chaser serve` on the embedded simulator (a fresh database),
// creates and executes orders through the API with the dashboard open in headless Chromium, and writes
//   docs/dashboard-live.png  the list while orders work (one queued behind another, one refused by the exchange),
//   docs/dashboard.png       the whole page once they are final, with the first order's detail,
//   docs/chart.png           that order's chart as `chaser report --charts` writes it (the light theme).
// usage: node screenshots.mjs [docs-dir]   (after `dotnet build Chaser.sln -c Release`; CHASER_DLL overrides the
// chaser.dll it runs, CHROMIUM /usr/bin/chromium)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const docs = resolve(process.argv[2] ?? join(root, "docs"));
const dll = process.env.CHASER_DLL ?? join(root, "src/Chaser.Cli/bin/Release/net10.0/chaser.dll");
const token = "screenshots-" + Math.random().toString(36).slice(2);
const scratch = mkdtempSync(join(tmpdir(), "chaser-screenshots-"));

const port = await new Promise((done) => { const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => done(p)); }); });
const baseUrl = `http://127.0.0.1:${port}`;
const serve = spawn("dotnet", [dll, "serve", "--urls", baseUrl, "--db", `Data Source=${join(scratch, "chaser.db")}`], {
  env: { ...process.env, CHASER_API_TOKEN: token, CHASER_LOG: join(scratch, "chaser.log") },
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
serve.stdout.on("data", (chunk) => { output += chunk; });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const api = async (path, body, raw) => {
  const response = await fetch(baseUrl + path, {
    method: body ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return raw ? Buffer.from(await response.arrayBuffer()) : response.json();
};

let browser;
try {
  for (let waited = 0; !output.includes("chaser serve:"); waited += 100) {
    if (waited > 60000 || serve.exitCode !== null) throw new Error("chaser serve did not start:\n" + output);
    await sleep(100);
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${baseUrl}/#token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => document.getElementById("connection").textContent === "live", null, { timeout: 20000 });

  // Two BTCUSDT buys: the second waits behind the first. The reduce-only sell of SOLUSDT, with no position, is refused.
  const orders = await api("/api/orders", [
    { symbol: "BTCUSDT", side: 1, size: 300000, size_type: "n", strategy: "rebalance", price_expected: 65000 },
    { symbol: "ETHUSDT", side: -1, size: 80000, size_type: "n", strategy: "rebalance", price_expected: 3400 },
    { symbol: "BTCUSDT", side: -1, size: 1.5, size_type: "q", strategy: "hedge" },
    { symbol: "ETHUSDT", side: 1, size: 12, size_type: "q", strategy: "hedge" },
    { symbol: "BTCUSDT", side: 1, size: 20000, size_type: "n", strategy: "rebalance" },
    { symbol: "SOLUSDT", side: -1, size: 10, size_type: "q", strategy: "hedge", reduce_only: true },
  ]);
  const ids = orders.map((o) => o.id);
  await api("/api/orders/execute", { ids });

  // While they work: the last BTCUSDT buy queued, the SOLUSDT sell failed.
  await page.waitForFunction((queued) => document.querySelector(`#orders tr[data-id="${queued}"] .status`)?.textContent === "queued"
    && [...document.querySelectorAll("#orders .status")].some((s) => s.textContent === "failed"), ids[4], { timeout: 30000, polling: 50 });
  await page.screenshot({ path: join(docs, "dashboard-live.png") });

  const final = ["filled", "canceled", "expired", "failed"];
  await page.waitForFunction(([all, done]) => all.every((id) => done.includes(document.querySelector(`#orders tr[data-id="${id}"] .status`)?.textContent)), [ids, final], { timeout: 180000 });
  await page.click(`#orders tr[data-id="${ids[0]}"]`);
  await page.waitForFunction(() => document.getElementById("chart").naturalWidth > 0 && document.querySelectorAll("#fills tbody tr").length > 0 && document.querySelectorAll("#aggregates tbody tr").length > 0, null, { timeout: 30000 });
  await sleep(500); // the aggregates' refresh settles
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(docs, "dashboard.png"), fullPage: true });

  writeFileSync(join(docs, "chart.png"), await api(`/api/orders/${ids[0]}/chart.png`, null, true));
  console.log(`wrote ${["dashboard-live.png", "dashboard.png", "chart.png"].map((f) => join(docs, f)).join(", ")}`);
} finally {
  await browser?.close();
  serve.kill("SIGTERM");
  if (serve.exitCode === null) await once(serve, "exit");
  rmSync(scratch, { recursive: true, force: true });
}
