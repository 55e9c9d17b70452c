// Drives a running `chaser sim` with the `binance` npm package (tiagosiebler's USDMClient, WebsocketClient and
// WebsocketAPIClient), unmodified except its base addresses (and the key/secret the simulator accepts): REST, the
// WebSocket API (/ws-fapi/v1), market streams on the routed URLs the package builds itself since 3.5 (bookTicker and
// depth on <base>/public/stream, aggTrade on <base>/market/stream) and the user stream
// (<base>/private/stream?listenKey=<key>).
// Usage: node check.mjs http://127.0.0.1:8090 [apiKey apiSecret]
// Prints one line per check; exits non-zero when any check fails.
import { readFileSync } from 'node:fs';
import { USDMClient, WebsocketClient, WebsocketAPIClient, DefaultLogger } from 'binance';

const base = (process.argv[2] ?? process.env.CHASER_SIM_URL ?? 'http://127.0.0.1:8090').replace(/\/$/, '');
const apiKey = process.argv[3] ?? process.env.CHASER_SIM_API_KEY ?? 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83';
const apiSecret = process.argv[4] ?? process.env.CHASER_SIM_API_SECRET ?? '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const wsBase = base.replace(/^http/, 'ws');
const symbol = 'BTCUSDT';
const version = JSON.parse(readFileSync(new URL('./node_modules/binance/package.json', import.meta.url))).version;

// The package logs every connection at info on stdout; keep its errors, which explain a failure.
const logger = { ...DefaultLogger, trace: () => {}, info: () => {} };
// Only the hosts change: every path is the package's own (REST fapi/…, WS API /ws-fapi/v1, routed stream suffixes).
const rest = new USDMClient({ api_key: apiKey, api_secret: apiSecret, baseUrl: base, disableTimeSync: true });
const wsOptions = { api_key: apiKey, api_secret: apiSecret, wsUrl: wsBase, restOptions: { baseUrl: base, disableTimeSync: true } };
const streams = new WebsocketClient(wsOptions, logger);
// attachEventListeners off: the package would print every WS API error reply (the expected -5022 among them).
const wsApi = new WebsocketAPIClient({ ...wsOptions, attachEventListeners: false }, logger);

let failures = 0;
// A socket error the package leaves unhandled (the server went away) still ends the run with one line and exit 1.
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
    const text = error?.message ?? (typeof error === 'object' ? JSON.stringify(error) : String(error));
    console.log(`FAIL  ${name}: ${error?.constructor?.name}: ${text}`.slice(0, 600));
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

// Every stream message goes through one 'message' event: { wsKey, ...payload } (combined streams unwrapped or not).
const waiters = [];
const connectedUrls = new Set();
streams.on('open', ({ wsUrl }) => connectedUrls.add(wsUrl));
streams.on('message', (message) => {
  const payload = message?.data && message?.stream ? message.data : message;
  for (const waiter of [...waiters]) {
    if (waiter.accept(payload, message)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve({ payload, wsKey: message.wsKey });
    }
  }
});
streams.on('exception', (error) => console.log(`      stream exception: ${JSON.stringify(error).slice(0, 300)}`));
function nextMessage(ms, what, accept) {
  return withTimeout(new Promise((resolve) => waiters.push({ accept, resolve })), ms, what);
}

const below = (price, ticks) => (Number(price) - ticks * 0.1).toFixed(1);
// The synthetic market keeps moving: every price is taken from the book just before it is used.
const touch = async () => {
  const book = await rest.getOrderBook({ symbol, limit: 5 });
  return { bid: book.bids[0][0], ask: book.asks[0][0] };
};

await check('REST getExchangeInfo', async () => {
  const info = await rest.getExchangeInfo();
  const btc = info.symbols.find((s) => s.symbol === symbol);
  assert(btc, `${symbol} missing`);
  const filters = Object.fromEntries(btc.filters.map((f) => [f.filterType, f]));
  assert(String(filters.PRICE_FILTER.tickSize) === '0.10' && String(filters.LOT_SIZE.stepSize) === '0.001', `filters ${JSON.stringify(filters)}`);
  return `${info.symbols.length} symbols, ${symbol} tick ${filters.PRICE_FILTER.tickSize} step ${filters.LOT_SIZE.stepSize}`;
});
await check('REST getServerTime', async () => {
  const serverTime = await rest.getServerTime();
  assert(Math.abs(Number(serverTime) - Date.now()) < 5000, `serverTime ${serverTime}`);
  return `serverTime ${serverTime}`;
});
await check('REST getOrderBook', async () => {
  const book = await rest.getOrderBook({ symbol, limit: 20 });
  assert(book.bids.length > 0 && book.asks.length > 0 && Number(book.bids[0][0]) < Number(book.asks[0][0]), `book ${JSON.stringify(book).slice(0, 200)}`);
  return `${book.bids[0][0]} / ${book.asks[0][0]}, lastUpdateId ${book.lastUpdateId}`;
});

let resting;
await check('REST submitNewOrder post-only (GTX), its own broker-prefixed client id', async () => {
  resting = await rest.submitNewOrder({
    symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: Number(below((await touch()).bid, 50)), newOrderRespType: 'RESULT',
  });
  assert(resting.orderId && resting.status === 'NEW' && resting.timeInForce === 'GTX' && resting.clientOrderId.startsWith('x-'), `order ${JSON.stringify(resting)}`);
  return `orderId ${resting.orderId} ${resting.origQty} @ ${resting.price}, clientOrderId ${resting.clientOrderId}`;
});
await check('REST getOrder by origClientOrderId', async () => {
  const order = await rest.getOrder({ symbol, origClientOrderId: resting.clientOrderId });
  assert(String(order.orderId) === String(resting.orderId) && order.status === 'NEW', `order ${JSON.stringify(order)}`);
  return `status ${order.status}`;
});
await check('REST modifyOrder + getOrderModifyHistory', async () => {
  const price = below(resting.price, 10);
  const modified = await rest.modifyOrder({ symbol, orderId: resting.orderId, side: 'BUY', quantity: 0.003, price: Number(price) });
  assert(String(modified.orderId) === String(resting.orderId) && Number(modified.origQty) === 0.003 && Number(modified.price) === Number(price), `modified ${JSON.stringify(modified)}`);
  const history = await rest.getOrderModifyHistory({ symbol, orderId: resting.orderId });
  assert(history.length === 1 && Number(history[0].amendment.price.after) === Number(price), `history ${JSON.stringify(history)}`);
  return `now ${modified.origQty} @ ${modified.price}`;
});
await check('REST cancelOrder', async () => {
  const canceled = await rest.cancelOrder({ symbol, orderId: resting.orderId });
  assert(canceled.status === 'CANCELED', `status ${canceled.status}`);
  return `status ${canceled.status}`;
});
await check('REST a crossing post-only order is rejected with -5022', async () => {
  try {
    const order = await rest.submitNewOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: Number((Number((await touch()).ask) + 50).toFixed(1)) });
    throw new Error(`accepted: ${JSON.stringify(order)}`);
  } catch (error) {
    assert(error?.code === -5022, `${JSON.stringify(error).slice(0, 300)}`);
    return `code ${error.code}`;
  }
});
await check('REST submitMultipleOrders: one resting, one -5022 beside it', async () => {
  const { bid, ask } = await touch();
  const results = await rest.submitMultipleOrders([
    { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: Number(below(bid, 60)) },
    { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: Number((Number(ask) + 50).toFixed(1)) },
  ]);
  assert(results.length === 2 && results[0].status === 'NEW' && results[1].code === -5022, `batch ${JSON.stringify(results)}`);
  await rest.cancelOrder({ symbol, orderId: results[0].orderId });
  return `order ${results[0].orderId} NEW, then ${results[1].code}`;
});
await check('REST getAccountInformationV3 / getBalanceV3 / getAccountTrades', async () => {
  const account = await rest.getAccountInformationV3();
  const usdt = (await rest.getBalanceV3()).find((b) => b.asset === 'USDT');
  const trades = await rest.getAccountTrades({ symbol, limit: 50 });
  assert(Number(account.totalWalletBalance) > 0 && Number(usdt?.balance) > 0 && Array.isArray(trades), `account ${account.totalWalletBalance}, USDT ${JSON.stringify(usdt)}`);
  return `wallet ${account.totalWalletBalance}, ${trades.length} trade(s)`;
});

await check('WebSocket API submitNewFuturesOrder / modify / status / cancel (ws-fapi, each request signed)', async () => {
  const placed = await withTimeout(wsApi.submitNewFuturesOrder('usdm', { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.002', price: below((await touch()).bid, 80), timestamp: Date.now() }), 10000, 'order.place');
  const order = placed.result;
  assert(order?.orderId && order.status === 'NEW', `placed ${JSON.stringify(placed).slice(0, 300)}`);
  const price = below(order.price, 10);
  const modified = await withTimeout(wsApi.modifyFuturesOrder('usdm', { symbol, orderId: order.orderId, side: 'BUY', quantity: '0.002', price, timestamp: Date.now() }), 10000, 'order.modify');
  assert(Number(modified.result.price) === Number(price), `modified ${JSON.stringify(modified.result)}`);
  const status = await withTimeout(wsApi.getFuturesOrderStatus('usdm', { symbol, orderId: order.orderId, timestamp: Date.now() }), 10000, 'order.status');
  assert(status.result.status === 'NEW', `status ${JSON.stringify(status.result)}`);
  const canceled = await withTimeout(wsApi.cancelFuturesOrder('usdm', { symbol, orderId: order.orderId, timestamp: Date.now() }), 10000, 'order.cancel');
  assert(canceled.result.status === 'CANCELED', `canceled ${JSON.stringify(canceled.result)}`);
  return `order ${order.orderId} placed, modified, queried and canceled; rateLimits ${placed.rateLimits?.length ?? 0}`;
});
await check('WebSocket API a crossing post-only order is an error with -5022', async () => {
  try {
    const placed = await withTimeout(wsApi.submitNewFuturesOrder('usdm', { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.002', price: (Number((await touch()).ask) + 50).toFixed(1), timestamp: Date.now() }), 10000, 'order.place');
    throw new Error(`accepted: ${JSON.stringify(placed.result)}`);
  } catch (error) {
    assert(error?.error?.code === -5022, `${JSON.stringify(error).slice(0, 300)}`);
    return `status ${error.status}, code ${error.error.code}`;
  }
});

await check('stream bookTicker (routed to /public by the package)', async () => {
  const tick = nextMessage(15000, 'bookTicker', (p) => p.e === 'bookTicker' && p.s === symbol);
  streams.subscribe(['btcusdt@bookTicker'], 'usdm');
  const { payload, wsKey } = await tick;
  assert(Number(payload.b) < Number(payload.a), `bookTicker ${JSON.stringify(payload)}`);
  return `${payload.b} / ${payload.a} on ${wsKey}`;
});
await check('stream depth diffs (public route)', async () => {
  const diff = nextMessage(15000, 'depthUpdate', (p) => p.e === 'depthUpdate' && p.s === symbol);
  streams.subscribe(['btcusdt@depth@100ms'], 'usdm');
  const { payload } = await diff;
  assert(payload.U <= payload.u && 'pu' in payload, `depth ${JSON.stringify(payload).slice(0, 300)}`);
  return `U ${payload.U} u ${payload.u} pu ${payload.pu}`;
});
await check('stream aggTrade (routed to /market by the package)', async () => {
  const trade = nextMessage(30000, 'aggTrade', (p) => p.e === 'aggTrade' && p.s === symbol);
  streams.subscribe(['btcusdt@aggTrade'], 'usdm');
  const { payload, wsKey } = await trade;
  assert(Number(payload.q) > 0, `aggTrade ${JSON.stringify(payload)}`);
  return `${payload.q} @ ${payload.p} on ${wsKey}`;
});
await check('the package connected only to routed stream URLs', async () => {
  const paths = [...connectedUrls].map((u) => new URL(u).pathname).filter((p) => p !== '/ws-fapi/v1').sort();
  assert(JSON.stringify(paths) === JSON.stringify(['/market/stream', '/public/stream']), `connected to ${[...connectedUrls].join(', ')}`);
  return paths.join(', ');
});

await check('user stream on /private/stream?listenKey=: ORDER_TRADE_UPDATE and TRADE_LITE of a maker fill', async () => {
  await withTimeout(streams.subscribeUsdFuturesUserDataStream(), 10000, 'user stream connect');
  const privateUrl = [...connectedUrls].find((u) => new URL(u).pathname === '/private/stream');
  assert(privateUrl && new URL(privateUrl).searchParams.get('listenKey'), `connected to ${[...connectedUrls].join(', ')}`);
  let order;
  const filled = nextMessage(60000, 'the fill', (p) => p.e === 'ORDER_TRADE_UPDATE' && p.o?.X === 'FILLED' && order && String(p.o.i) === String(order.orderId));
  const lite = nextMessage(60000, 'TRADE_LITE', (p) => p.e === 'TRADE_LITE' && order && String(p.i) === String(order.orderId));
  for (let attempt = 1; !order; attempt++) {
    // the touch can move between reading the book and the order arriving: a -5022 then is Binance being right
    try {
      order = await rest.submitNewOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.005, price: Number((await touch()).bid) });
    } catch (error) {
      if (attempt >= 5 || error?.code !== -5022) throw error;
    }
  }
  const { payload: last } = await filled;
  const { payload: trade } = await lite;
  assert(Number(last.o.z) === 0.005 && last.o.m === true && trade.m === true, `fill ${JSON.stringify(last)}, lite ${JSON.stringify(trade)}`);
  return `order ${order.orderId} filled 0.005 @ ${last.o.ap} as maker; TRADE_LITE ${trade.l} @ ${trade.L}`;
});

streams.closeAll(true);
wsApi.getWSClient().closeAll(true);
console.log(failures === 0 ? `binance ${version}: all checks passed` : `binance ${version}: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
