// Drives a running `chaser sim` with Binance's official USDⓈ-M connector (@binance/derivatives-trading-usds-futures),
// unmodified except its three base addresses (and the key/secret the simulator accepts): REST, WebSocket API,
// market streams on the routed URLs the connector builds itself (<base>/public/stream, <base>/market/stream), and the
// user stream (<base>/private/stream, SUBSCRIBE <listenKey>).
// Usage: node check.mjs http://127.0.0.1:8090 [apiKey apiSecret]
// Prints one line per check; exits non-zero when any check fails.
import { readFileSync } from 'node:fs';

// The connector logs every connection at "info" on stdout; keep its warnings and errors, which explain a failure.
process.env.LOG_LEVEL ??= 'warn';
const { DerivativesTradingUsdsFutures } = await import('@binance/derivatives-trading-usds-futures');

const base = (process.argv[2] ?? process.env.CHASER_SIM_URL ?? 'http://127.0.0.1:8090').replace(/\/$/, '');
const apiKey = process.argv[3] ?? process.env.CHASER_SIM_API_KEY ?? 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83';
const apiSecret = process.argv[4] ?? process.env.CHASER_SIM_API_SECRET ?? '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const wsBase = base.replace(/^http/, 'ws');
const symbol = 'BTCUSDT';
const version = JSON.parse(readFileSync(new URL('./node_modules/@binance/derivatives-trading-usds-futures/package.json', import.meta.url))).version;

// Only the hosts change: every path is the connector's own (REST /fapi/…, WS API /ws-fapi/v1, routed streams).
const client = new DerivativesTradingUsdsFutures({
  configurationRestAPI: { apiKey, apiSecret, basePath: base, timeout: 10000, retries: 0 },
  configurationWebsocketAPI: { apiKey, apiSecret, wsURL: `${wsBase}/ws-fapi/v1`, timeout: 10000 },
  configurationWebsocketStreams: { wsURL: wsBase },
});
const rest = client.restAPI;

let failures = 0;
// A socket error the connector leaves unhandled (the server went away) still ends the run with one line and exit 1.
process.on('uncaughtException', (error) => {
  console.log(`FAIL  uncaught ${error?.constructor?.name}: ${error?.message ?? error}`.slice(0, 600));
  process.exit(1);
});
async function check(name, action) {
  const started = Date.now();
  try {
    const detail = await action();
    console.log(`ok    ${name}${detail ? `: ${detail}` : ''} (${Date.now() - started} ms)`);
  } catch (error) {
    failures++;
    console.log(`FAIL  ${name}: ${error?.constructor?.name}: ${error?.message ?? error}`.slice(0, 600));
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms); });
  try { return await Promise.race([promise, timeout]); } finally { clearTimeout(timer); }
}

/** The first message of a stream handler that satisfies `accept`, within `ms`. */
function nextMessage(stream, ms, what, accept = () => true) {
  return withTimeout(new Promise((resolve) => stream.on('message', (data) => { if (accept(data)) resolve(data); })), ms, what);
}

const data = async (response) => (await response).data();
const below = (price, ticks) => (Number(price) - ticks * 0.1).toFixed(1);
// The synthetic market keeps moving: every price is taken from the book just before it is used.
const touch = async () => {
  const book = await data(rest.orderBook({ symbol, limit: 5 }));
  return { bid: book.bids[0][0], ask: book.asks[0][0] };
};

let top;
await check('REST exchangeInformation', async () => {
  const info = await data(rest.exchangeInformation());
  const btc = info.symbols.find((s) => s.symbol === symbol);
  assert(btc, `${symbol} missing; got ${info.symbols.map((s) => s.symbol).join(', ')}`);
  const filters = Object.fromEntries(btc.filters.map((f) => [f.filterType, f]));
  assert(filters.PRICE_FILTER.tickSize === '0.10' && filters.LOT_SIZE.stepSize === '0.001', `filters ${JSON.stringify(filters)}`);
  assert(btc.contractType === 'PERPETUAL' && btc.timeInForce.includes('GTX'), `contract ${btc.contractType}, tif ${btc.timeInForce}`);
  return `${info.symbols.length} symbols, ${symbol} tick ${filters.PRICE_FILTER.tickSize} step ${filters.LOT_SIZE.stepSize}`;
});
await check('REST orderBook', async () => {
  const book = await data(rest.orderBook({ symbol, limit: 20 }));
  assert(book.bids.length > 0 && book.asks.length > 0, 'empty book');
  assert(Number(book.bids[0][0]) < Number(book.asks[0][0]), `crossed book ${book.bids[0][0]} / ${book.asks[0][0]}`);
  assert(Number.isInteger(book.lastUpdateId) || typeof book.lastUpdateId === 'bigint', `lastUpdateId ${book.lastUpdateId}`);
  top = { bid: book.bids[0][0], ask: book.asks[0][0] };
  return `${top.bid} / ${top.ask}, lastUpdateId ${book.lastUpdateId}`;
});

let resting;
await check('REST newOrder post-only (GTX) limit below the best bid', async () => {
  resting = await data(rest.newOrder({
    symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: below((await touch()).bid, 50),
    newClientOrderId: `bcc-${Date.now()}`, newOrderRespType: 'RESULT',
  }));
  assert(resting.orderId && resting.status === 'NEW' && resting.timeInForce === 'GTX', `order ${JSON.stringify(resting)}`);
  return `orderId ${resting.orderId} ${resting.origQty} @ ${resting.price} ${resting.status}`;
});
await check('REST queryOrder', async () => {
  const order = await data(rest.queryOrder({ symbol, orderId: resting.orderId }));
  assert(String(order.orderId) === String(resting.orderId) && order.status === 'NEW', `order ${JSON.stringify(order)}`);
  return `status ${order.status}, clientOrderId ${order.clientOrderId}`;
});
await check('REST modifyOrder + getOrderModifyHistory', async () => {
  const price = below(resting.price, 10); // a dollar under where it rests: still passive, never the same price
  const modified = await data(rest.modifyOrder({ symbol, orderId: resting.orderId, side: 'BUY', quantity: 0.003, price }));
  assert(String(modified.orderId) === String(resting.orderId) && Number(modified.origQty) === 0.003 && Number(modified.price) === Number(price),
    `modified ${JSON.stringify(modified)}`);
  const history = await data(rest.getOrderModifyHistory({ symbol, orderId: resting.orderId }));
  assert(history.length === 1 && history[0].amendment.count === 1 && Number(history[0].amendment.price.after) === Number(price)
    && Number(history[0].amendment.origQty.before) === 0.002, `modify history ${JSON.stringify(history)}`);
  return `now ${modified.origQty} @ ${modified.price}; history: ${history[0].amendment.price.before} → ${history[0].amendment.price.after}`;
});
await check('REST cancelOrder', async () => {
  const canceled = await data(rest.cancelOrder({ symbol, orderId: resting.orderId }));
  assert(canceled.status === 'CANCELED', `status ${canceled.status}`);
  return `status ${canceled.status}`;
});
await check('REST a crossing post-only order is rejected with -5022', async () => {
  try {
    const order = await data(rest.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: (Number((await touch()).ask) + 50).toFixed(1) }));
    throw new Error(`accepted: ${JSON.stringify(order)}`);
  } catch (error) {
    assert(String(error.message).includes('-5022') || error.code === -5022 || String(error.response?.data ?? '').includes('-5022'), `${error.constructor.name}: ${error.message}`);
    return error.constructor.name;
  }
});
await check('REST accountInformationV3 / futuresAccountBalanceV3', async () => {
  const account = await data(rest.accountInformationV3());
  const balances = await data(rest.futuresAccountBalanceV3());
  const usdt = balances.find((b) => b.asset === 'USDT');
  assert(Number(account.totalWalletBalance) > 0 && Number(usdt?.balance) > 0, `account ${account.totalWalletBalance}, USDT ${JSON.stringify(usdt)}`);
  return `wallet ${account.totalWalletBalance}, USDT ${usdt.balance}`;
});
await check('REST accountTradeList', async () => {
  const trades = await data(rest.accountTradeList({ symbol, limit: 50 }));
  assert(Array.isArray(trades), `trades ${JSON.stringify(trades)}`);
  return `${trades.length} trade(s)`;
});

let ws;
await check('WebSocket API newOrder / modifyOrder / queryOrder / cancelOrder (ws-fapi)', async () => {
  ws = await withTimeout(client.websocketAPI.connect(), 10000, 'ws-fapi connect');
  const placed = await withTimeout(ws.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: below((await touch()).bid, 80) }), 10000, 'order.place');
  assert(placed.data.orderId && placed.data.status === 'NEW', `placed ${JSON.stringify(placed.data)}`);
  const price = below(placed.data.price, 10);
  const modified = await withTimeout(ws.modifyOrder({ symbol, orderId: placed.data.orderId, side: 'BUY', quantity: 0.002, price }), 10000, 'order.modify');
  assert(Number(modified.data.price) === Number(price), `modified ${JSON.stringify(modified.data)}`);
  const status = await withTimeout(ws.queryOrder({ symbol, orderId: placed.data.orderId }), 10000, 'order.status');
  assert(status.data.status === 'NEW' && Number(status.data.price) === Number(price), `status ${JSON.stringify(status.data)}`);
  const canceled = await withTimeout(ws.cancelOrder({ symbol, orderId: placed.data.orderId }), 10000, 'order.cancel');
  assert(canceled.data.status === 'CANCELED', `canceled ${JSON.stringify(canceled.data)}`);
  return `order ${placed.data.orderId} placed, modified, queried and canceled, rateLimits ${placed.rateLimits?.length ?? 0}`;
});

let streams;
await check('market streams connect (routed /public, /market, /private)', async () => {
  streams = await withTimeout(client.websocketStreams.connect(), 10000, 'streams connect');
  // Binance serves USDⓈ-M streams only on routed URLs since 2026-04-23 (legacy /ws and /stream retired): the
  // connector must have opened one connection per route, never the bare /stream.
  const urls = streams.websocketBase.connectionPool.map((c) => c.ws?.url ?? '').sort();
  const routes = urls.map((u) => new URL(u).pathname);
  assert(JSON.stringify(routes) === JSON.stringify(['/market/stream', '/private/stream', '/public/stream']), `connected to ${urls.join(', ')}`);
  return routes.join(', ');
});
await check('stream bookTicker (public route)', async () => {
  const tick = await nextMessage(streams.individualSymbolBookTickerStreams({ symbol: 'btcusdt' }), 15000, 'bookTicker');
  assert(tick.e === 'bookTicker' && tick.s === symbol && Number(tick.b) < Number(tick.a), `bookTicker ${JSON.stringify(tick)}`);
  return `${tick.b} / ${tick.a}, u ${tick.u}`;
});
await check('stream depth diffs (public route)', async () => {
  const diff = await nextMessage(streams.diffBookDepthStreams({ symbol: 'btcusdt', updateSpeed: '100ms' }), 15000, 'depth');
  assert(diff.e === 'depthUpdate' && diff.s === symbol && diff.U <= diff.u && 'pu' in diff, `depth ${JSON.stringify(diff).slice(0, 300)}`);
  return `U ${diff.U} u ${diff.u} pu ${diff.pu}, ${diff.b.length} bid / ${diff.a.length} ask levels`;
});
await check('stream aggTrade (market route)', async () => {
  const trade = await nextMessage(streams.aggregateTradeStreams({ symbol: 'btcusdt' }), 30000, 'aggTrade');
  assert(trade.e === 'aggTrade' && trade.s === symbol && Number(trade.q) > 0, `aggTrade ${JSON.stringify(trade)}`);
  return `${trade.q} @ ${trade.p}, maker ${trade.m}`;
});

let user;
await check('user stream: listen key + ORDER_TRADE_UPDATE after an order (private route)', async () => {
  const { listenKey } = await data(rest.startUserDataStream());
  assert(typeof listenKey === 'string' && listenKey.length > 0, `listenKey ${listenKey}`);
  const overWs = await withTimeout(ws.startUserDataStream(), 10000, 'userDataStream.start');
  assert(overWs.data.listenKey === listenKey, `userDataStream.start gave ${overWs.data.listenKey}, REST ${listenKey}`);
  user = streams.userData(listenKey);
  const update = nextMessage(user, 15000, 'ORDER_TRADE_UPDATE', (event) => event.e === 'ORDER_TRADE_UPDATE' && event.o?.X === 'NEW');
  await new Promise((resolve) => setTimeout(resolve, 500)); // the SUBSCRIBE goes out before the order
  const order = await data(rest.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: below((await touch()).bid, 90) }));
  const event = await update;
  assert(String(event.o.i) === String(order.orderId) && event.o.x === 'NEW' && event.o.f === 'GTX', `event ${JSON.stringify(event)}`);
  await data(rest.cancelOrder({ symbol, orderId: order.orderId }));
  return `order ${event.o.i} ${event.o.x}/${event.o.X} ${event.o.q} @ ${event.o.p}`;
});

await check('a buy resting at the best bid filled as maker: ORDER_TRADE_UPDATE TRADE, then accountTradeList', async () => {
  const fills = [];
  const filled = nextMessage(user, 60000, 'the fill', (event) => {
    if (event.e === 'ORDER_TRADE_UPDATE' && event.o?.x === 'TRADE') fills.push(event);
    return event.e === 'ORDER_TRADE_UPDATE' && event.o?.X === 'FILLED';
  });
  let order;
  for (let attempt = 1; !order; attempt++) {
    // the touch can move between reading the book and the order arriving: a -5022 then is Binance being right
    const book = await data(rest.orderBook({ symbol, limit: 5 }));
    try {
      order = await data(rest.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.005, price: book.bids[0][0] }));
    } catch (error) {
      if (attempt >= 5 || !String(error.message).includes('Post Only')) throw error;
    }
  }
  const last = await filled;
  assert(String(last.o.i) === String(order.orderId) && Number(last.o.z) === 0.005 && last.o.m === true, `fill ${JSON.stringify(last)}`);
  const trades = (await data(rest.accountTradeList({ symbol, limit: 50 }))).filter((t) => String(t.orderId) === String(order.orderId));
  const quantity = trades.reduce((sum, t) => sum + Number(t.qty), 0);
  assert(trades.length > 0 && trades.length === fills.filter((f) => String(f.o.i) === String(order.orderId)).length
    && trades.every((t) => t.maker === true && t.buyer === true) && Math.abs(quantity - 0.005) < 1e-9,
    `trades ${JSON.stringify(trades)}`);
  return `filled 0.005 @ ${last.o.ap} in ${trades.length} maker trade(s), commission ${trades.reduce((sum, t) => sum + Number(t.commission), 0).toFixed(8)} ${trades[0].commissionAsset}`;
});

console.log(failures === 0 ? `@binance/derivatives-trading-usds-futures ${version}: all checks passed` : `@binance/derivatives-trading-usds-futures ${version}: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
