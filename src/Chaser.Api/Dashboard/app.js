// The Chaser dashboard: follows GET /api/stream (server-sent events, read with fetch so the bearer token can be sent)
// and draws the parent orders with live progress, a detail view (chart, metrics, fills) and the aggregate table.
"use strict";

const state = { token: null, selected: null, orders: new Map(), updates: 0, chartUrl: null, chartAt: 0, reportKey: null };
window.chaser = state; // for the browser test and the curious: state.updates counts stream events applied

const $ = (id) => document.getElementById(id);
// A missing value is "-" everywhere, as in the terminal's tables.
const none = "-";
const fmt = (v, digits) => v === null || v === undefined ? none : Number(v).toLocaleString("en-US", { maximumFractionDigits: digits ?? 8 });
// A figure in bp with its unit, or just "-" when there is none.
const bpUnit = (v) => (v === null || v === undefined ? none : bp(v) + " bp");
const bp = (v) => { if (v === null || v === undefined) return none; const r = Number(Number(v).toFixed(2)); return (r > 0 ? "+" : "") + (r === 0 ? "0.00" : r.toFixed(2)); };
const pct = (v) => v === null || v === undefined ? none : (Number(v) * 100).toFixed(1) + "%";
// UTC to the millisecond: 2026-12-01 13:45:01.123.
const utc = (t) => new Date(t).toISOString().replace("T", " ").replace("Z", "");
const base = (symbol) => symbol.replace(/USDT$|USDC$/, "");
const target = (o) => o.size_type === "n" ? `${fmt(o.size)} USDT` : `${fmt(o.size)} ${base(o.symbol)}`;
const filled = (o) => o.size_type === "n" ? `${fmt(o.filled_notional, 2)} USDT` : `${fmt(o.filled_qty)} ${base(o.symbol)}`;
const final = (status) => ["filled", "canceled", "expired", "failed"].includes(status);
// Why an order is where it is: the reason it failed or was canceled, what a queued one waits for (a filled one needs none).
const reason = (o) => o.status_detail && o.status !== "filled" ? o.status_detail : null;

function authHeaders() { return { Authorization: "Bearer " + state.token }; }

async function api(path, asBlob) {
  const response = await fetch(path, { headers: authHeaders() });
  if (response.status === 401) { tokenRefused(); throw new Error("unauthorized"); }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return asBlob ? response.blob() : response.json();
}

// Until a token is accepted the page can't know whether there are orders: it says a token is needed, not "no orders".
function tokenRefused() {
  setConnected(false, "token refused");
  state.token = null;
  $("needs-token").hidden = false;
  $("needs-token").textContent = "The token was refused: paste the API token chaser serve printed, then Connect.";
  $("empty").hidden = true;
}

function setConnected(on, text) {
  const badge = $("connection");
  badge.className = "connection " + (on ? "on" : "off");
  badge.textContent = text ?? (on ? "live" : "not connected");
}

// Server-sent events over fetch: EventSource can't send an Authorization header.
async function follow() {
  while (state.token) {
    try {
      const response = await fetch("/api/stream", { headers: { ...authHeaders(), Accept: "text/event-stream" } });
      if (response.status === 401) { tokenRefused(); return; }
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      setConnected(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      console.warn("stream:", e);
    }
    setConnected(false, "reconnecting…");
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function handleEvent(block) {
  let event = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (event !== "orders" || !data) return;
  applyOrders(JSON.parse(data));
}

function applyOrders(orders) {
  const body = $("orders").tBodies[0];
  let changedFinal = false;
  const seen = new Set();
  for (const o of orders) {
    seen.add(o.id);
    const previous = state.orders.get(o.id);
    if (!previous || previous.status !== o.status) changedFinal = true;
    state.orders.set(o.id, o);
    let row = body.querySelector(`tr[data-id="${o.id}"]`);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.id = o.id;
      row.addEventListener("click", (e) => { if (!e.target.closest("button.cancel")) select(o.id); });
      const before = [...body.rows].find((r) => Number(r.dataset.id) < o.id);
      body.insertBefore(row, before ?? null);
    }
    drawRow(row, o);
  }
  for (const row of [...body.rows]) {
    if (!seen.has(Number(row.dataset.id))) { row.remove(); state.orders.delete(Number(row.dataset.id)); }
  }
  $("needs-token").hidden = true;
  $("empty").hidden = orders.length > 0;
  state.updates++;
  if (changedFinal) refreshAggregates();
  if (state.selected !== null && state.orders.has(state.selected)) refreshDetail();
}

function drawRow(row, o) {
  const side = o.side > 0 ? "buy" : "sell";
  const share = Math.min(1, Math.max(0, Number(o.progress)));
  let resting = fmt(o.resting_price), best = fmt(o.best_price);
  if (o.resting_price !== null && o.best_price !== null) {
    const atBest = Number(o.resting_price) === Number(o.best_price);
    resting = `<span class="${atBest ? "at-best" : "behind"}" title="${atBest ? "at the best price" : "not at the best price"}">${fmt(o.resting_price)}</span>`;
  }
  row.className = state.selected === o.id ? "selected" : "";
  const status = escapeHtml(o.status);
  const why = reason(o);
  const cancelable = o.status === "working" || o.status === "queued";
  row.innerHTML = `<td class="time">${escapeHtml(utc(o.created_at))}</td><td>${o.id}</td><td>${escapeHtml(o.symbol)}</td><td class="${side}">${side}</td><td>${escapeHtml(o.strategy)}</td>
    <td>${escapeHtml(target(o))}</td>
    <td><div class="bar" role="progressbar" aria-valuenow="${(share * 100).toFixed(1)}"><span></span><em>${(share * 100).toFixed(1)}%</em></div><div class="filled">${escapeHtml(filled(o))}</div></td>
    <td>${fmt(o.avg_price)}</td><td class="slippage">${bp(o.slippage_bps)}</td><td>${resting}</td><td>${best}</td><td>${o.fills ?? none}</td>
    <td class="status-col"><span class="status ${status}">${status}</span>${cancelable ? ` <button class="cancel" data-id="${o.id}" title="cancel the order (a resting child is canceled first)">cancel</button>` : ""}${why ? `<div class="status-detail" title="${escapeHtml(why)}">${escapeHtml(why)}</div>` : ""}</td>`;
  // Set through the CSSOM: the page's Content-Security-Policy forbids inline style attributes.
  row.querySelector(".bar > span").style.width = `${(share * 100).toFixed(2)}%`;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

let aggregatesPending = null;
function refreshAggregates() {
  clearTimeout(aggregatesPending);
  aggregatesPending = setTimeout(async () => {
    // The aggregates of the orders on the page (the latest 100), not of the whole history: bounded work per refresh.
    const ids = [...state.orders.keys()];
    if (ids.length === 0) return;
    const report = await api(`/api/report?ids=${ids.join(",")}`);
    $("aggregates").tBodies[0].innerHTML = report.aggregates.map((a) => `<tr><td>${escapeHtml(a.symbol)}</td><td class="${escapeHtml(a.side)}">${escapeHtml(a.side)}</td>
      <td>${escapeHtml(a.strategy)}</td><td>${a.orders}</td><td>${fmt(a.filled_notional, 2)}</td><td>${fmt(a.fees, 4)}</td><td>${bp(a.slippage_bps)}</td>
      <td>${bp(a.implementation_shortfall_bps)}</td><td>${bp(a.slippage_vs_expected_bps)}</td><td>${fmt(a.half_spread_captured, 2)}</td><td>${pct(a.maker_fraction)}</td><td>${bp(a.markout_1s_bps)}</td></tr>`).join("");
  }, 300);
}

function select(id) {
  state.selected = id;
  state.reportKey = null;
  for (const row of $("orders").tBodies[0].rows) row.className = Number(row.dataset.id) === id ? "selected" : "";
  $("detail").hidden = false;
  refreshDetail();
  // The detail sits below the list: bring it into view, or a click on a long list seems to do nothing.
  $("detail").scrollIntoView({ block: "start" });
}

let detailBusy = false;
async function refreshDetail() {
  const o = state.orders.get(state.selected);
  if (!o || detailBusy) return;
  const key = `${o.id}:${o.status}:${o.filled_qty}:${o.resting_price}`;
  // A working order's chart is redrawn at most every 2 s; a finished one once.
  if (key === state.reportKey && (final(o.status) || Date.now() - state.chartAt < 2000)) return;
  detailBusy = true;
  try {
    state.reportKey = key;
    state.chartAt = Date.now();
    $("detail-title").textContent = `#${o.id} ${o.side > 0 ? "buy" : "sell"} ${target(o)} of ${o.symbol} — ${o.status}`;
    const why = reason(o);
    $("detail-status").hidden = !why;
    $("detail-status").className = `detail-status ${o.status}`;
    $("detail-status").textContent = why ? `${o.status}: ${why}` : "";
    // The chart in the page's own (dark) colours.
    const [report, fills, chart] = await Promise.all([api(`/api/report?ids=${o.id}`), api(`/api/orders/${o.id}/fills`), api(`/api/orders/${o.id}/chart.png?theme=dark`, true)]);
    const r = report.orders[0];
    const metrics = [
      ["filled", filled(o)], ["fill rate", pct(r.fill_rate)], ["avg price", fmt(r.avg_price)], ["arrival mid", fmt(r.arrival_mid)],
      ["slippage vs arrival", bpUnit(r.slippage_bps)], ["vs price_expected", bpUnit(r.slippage_vs_expected_bps)],
      ["vs market VWAP", bpUnit(r.slippage_vs_vwap_bps)],
      ["implementation shortfall", r.implementation_shortfall === null ? none : `${bpUnit(r.implementation_shortfall_bps)} (${fmt(r.implementation_shortfall, 4)} USDT)`], ["½-spread earned", fmt(r.half_spread_captured, 2)], ["maker", pct(r.maker_fraction)],
      ["fees", fmt(r.fees, 4) + " USDT"], ["duration", fmt(r.duration_s, 1) + " s"], ["first fill after", r.time_to_first_fill_s === null ? none : fmt(r.time_to_first_fill_s, 2) + " s"],
      ["children / modifies / cancels", `${r.child_orders} / ${r.modifies} / ${r.cancels}`], ["post-only rejects", r.post_only_rejects],
      ["order budget (peak 10 s)", pct(r.order_budget_peak_10s)],
      ["tick→order p50 / p99", r.tick_to_order_p50_us === null ? none : `${fmt(r.tick_to_order_p50_us, 0)} / ${fmt(r.tick_to_order_p99_us, 0)} µs`],
      ["markout 1s / 10s / 60s", `${bp(r.markout_1s_bps)} / ${bp(r.markout_10s_bps)} / ${bp(r.markout_60s_bps)} bp`],
    ];
    $("metrics").innerHTML = metrics.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(v)}</dd>`).join("");
    $("fills").tBodies[0].innerHTML = fills.map((f) => `<tr><td>${escapeHtml(utc(f.exchange_time))}</td><td>${f.trade_id}</td>
      <td>${fmt(f.price)}</td><td>${fmt(f.qty)}</td><td>${fmt(f.fee, 8)} ${escapeHtml(f.fee_asset ?? "")}</td><td>${f.is_maker ? "yes" : "no"}</td></tr>`).join("");
    if (state.chartUrl) URL.revokeObjectURL(state.chartUrl);
    state.chartUrl = URL.createObjectURL(chart);
    $("chart").src = state.chartUrl;
  } catch (e) {
    console.warn("detail:", e);
  } finally {
    detailBusy = false;
  }
}

// The token lives in this page's memory only (not in storage): a reload asks for it again.
function start(token) {
  state.token = token;
  $("needs-token").textContent = "Connecting…";
  setConnected(false, "connecting…");
  follow();
}

// Cancel from the list: a queued order ends at once; a working one's resting child is canceled and the order ends
// canceled (or filled, if a fill wins).
async function cancelOrder(id) {
  if (!window.confirm(`Cancel order #${id}? Its resting child order is canceled and the order stops.`)) return;
  const response = await fetch(`/api/orders/${id}/cancel`, { method: "POST", headers: authHeaders() });
  if (!response.ok && response.status !== 409) {
    window.alert(`cancel #${id}: HTTP ${response.status} ${await response.text()}`);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("orders").tBodies[0].addEventListener("click", (e) => {
    const button = e.target.closest("button.cancel");
    if (!button) return; // the row's own listener ignores clicks on its cancel button
    button.disabled = true;
    cancelOrder(Number(button.dataset.id));
  });
  // A token may come in the URL fragment (never sent to the server): take it, then drop it from the address bar.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) history.replaceState(null, "", location.pathname);
  $("login").addEventListener("submit", (e) => { e.preventDefault(); if ($("token").value) start($("token").value.trim()); });
  if (fromHash) start(fromHash);
});
