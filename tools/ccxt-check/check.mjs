// Drives a running `chaser sim` with ccxt's binanceusdm (REST) and ccxt.pro (WebSocket), unmodified except its base
// URLs, to show that a widely used third-party Binance client works against the simulator.
// Usage: node check.mjs http://127.0.0.1:8090 [apiKey apiSecret]
// Prints one line per check; exits non-zero when any check fails.
import ccxt from 'ccxt';

const base = (process.argv[2] ?? process.env.CHASER_SIM_URL ?? 'http://127.0.0.1:8090').replace(/\/$/, '');
const apiKey = process.argv[3] ?? process.env.CHASER_SIM_API_KEY ?? 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83';
const secret = process.argv[4] ?? process.env.CHASER_SIM_API_SECRET ?? '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const wsBase = base.replace(/^http/, 'ws');
const symbol = 'BTC/USDT:USDT';

function pointAtSimulator(exchange) {
  // Only the host changes: every path stays Binance's.
  const api = exchange.urls.api;
  for (const key of ['fapiPublic', 'fapiPrivate']) api[key] = `${base}/fapi/v1`;
  for (const key of ['fapiPublicV2', 'fapiPrivateV2']) api[key] = `${base}/fapi/v2`;
  for (const key of ['fapiPublicV3', 'fapiPrivateV3']) api[key] = `${base}/fapi/v3`;
  api.fapiData = `${base}/futures/data`;
  if (api.ws) {
    // ccxt (4.5.84) itself turns a futures base ending in /ws into Binance's routed URLs: /public/ws for book and
    // trades, /market/ws for aggTrade and the rest, /private/ws?listenKey= for user data (pro/binance.js getWsUrl).
    api.ws.future = `${wsBase}/ws`;
    api.ws['ws-api'].future = `${wsBase}/ws-fapi/v1`;
  }
  return exchange;
}

const options = {
  apiKey,
  secret,
  enableRateLimit: true,
  options: {
    // A USDⓈ-M client: markets from fapi only, no spot/margin wallet calls.
    fetchMarkets: { types: ['linear'] },
    fetchCurrencies: false,
    warnOnFetchOpenOrdersWithoutSymbol: false,
  },
};
const rest = pointAtSimulator(new ccxt.binanceusdm(options));
const pro = pointAtSimulator(new ccxt.pro.binanceusdm(options));

let failures = 0;
async function check(name, action) {
  const started = Date.now();
  try {
    const detail = await action();
    console.log(`ok    ${name}${detail ? `: ${detail}` : ''} (${Date.now() - started} ms)`);
  } catch (error) {
    failures++;
    console.log(`FAIL  ${name}: ${error.constructor.name}: ${error.message}`.slice(0, 600));
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

let market;
let book;
await check('loadMarkets', async () => {
  const markets = await rest.loadMarkets();
  market = markets[symbol];
  assert(market, `${symbol} missing; got ${Object.keys(markets).join(', ')}`);
  assert(market.precision.price === 0.1 && market.precision.amount === 0.001, `precision ${JSON.stringify(market.precision)}`);
  assert(market.limits.cost.min === 100, `min notional ${market.limits.cost.min}`);
  return `${Object.keys(markets).length} markets, ${symbol} tick ${market.precision.price} step ${market.precision.amount}`;
});
await check('fetchTime', async () => {
  const time = await rest.fetchTime();
  assert(Math.abs(time - Date.now()) < 5000, `server time ${time} far from local ${Date.now()}`);
  return new Date(time).toISOString();
});
await check('fetchOrderBook', async () => {
  book = await rest.fetchOrderBook(symbol, 20);
  assert(book.bids.length > 0 && book.asks.length > 0, 'empty book');
  assert(book.bids[0][0] < book.asks[0][0], `crossed book ${book.bids[0][0]} / ${book.asks[0][0]}`);
  return `${book.bids[0][0]} / ${book.asks[0][0]}, nonce ${book.nonce}`;
});
await check('fetchTicker / fetchBidsAsks', async () => {
  const ticker = await rest.fetchTicker(symbol);
  const quotes = await rest.fetchBidsAsks([symbol]);
  assert(quotes[symbol].bid > 0 && quotes[symbol].ask > quotes[symbol].bid, `bidsAsks ${JSON.stringify(quotes[symbol])}`);
  return `last ${ticker.last}, bid ${quotes[symbol].bid} ask ${quotes[symbol].ask}`;
});
await check('fetchTrades', async () => {
  const trades = await rest.fetchTrades(symbol, undefined, 50);
  assert(trades.length > 0, 'no trades');
  return `${trades.length} trades, last ${trades.at(-1).side} ${trades.at(-1).amount} @ ${trades.at(-1).price}`;
});
await check('fetchBalance', async () => {
  const balance = await rest.fetchBalance();
  assert(balance.USDT?.total > 0, `USDT balance ${JSON.stringify(balance.USDT)}`);
  return `USDT total ${balance.USDT.total}`;
});

let resting;
await check('createOrder post-only (resting a little below the best bid)', async () => {
  // A few dollars under the touch, so it stays open for the modify and cancel checks that follow.
  const top = await rest.fetchOrderBook(symbol, 5);
  resting = await rest.createOrder(symbol, 'limit', 'buy', 0.002, top.bids[0][0] - 5, { timeInForce: 'GTX', newClientOrderId: `ccxt-${Date.now()}` });
  assert(resting.id && resting.status === 'open', `order ${JSON.stringify(resting)}`);
  return `id ${resting.id} ${resting.amount} @ ${resting.price} ${resting.timeInForce}`;
});
await check('fetchOrder / fetchOpenOrders', async () => {
  const fetched = await rest.fetchOrder(resting.id, symbol);
  const open = await rest.fetchOpenOrders(symbol);
  assert(fetched.id === resting.id, `fetched ${fetched.id}`);
  assert(open.some((o) => o.id === resting.id) || fetched.status !== 'open', 'resting order not among open orders');
  return `status ${fetched.status}, ${open.length} open`;
});
await check('editOrder (modify)', async () => {
  const top = await rest.fetchOrderBook(symbol, 5);
  const price = top.bids[0][0] - 6;
  const edited = await rest.editOrder(resting.id, symbol, 'limit', 'buy', 0.003, price);
  assert(edited.id === resting.id && edited.amount === 0.003 && edited.price === price, `edited ${JSON.stringify({ id: edited.id, amount: edited.amount, price: edited.price })}`);
  return `now ${edited.amount} @ ${edited.price}`;
});
await check('cancelOrder', async () => {
  const canceled = await rest.cancelOrder(resting.id, symbol);
  assert(canceled.status === 'canceled', `status ${canceled.status}`);
  return `status ${canceled.status}`;
});
await check('a crossing post-only order is rejected (-5022)', async () => {
  const top = await rest.fetchOrderBook(symbol, 5);
  try {
    const order = await rest.createOrder(symbol, 'limit', 'buy', 0.002, top.asks[0][0] + 50, { timeInForce: 'GTX' });
    throw new Error(`accepted: ${JSON.stringify({ id: order.id, status: order.status })}`);
  } catch (error) {
    assert(error instanceof ccxt.OrderImmediatelyFillable || String(error.message).includes('-5022'), `${error.constructor.name}: ${error.message}`);
    return `${error.constructor.name}`;
  }
});

// ccxt needs its http agent loaded before it will open a plain ws:// (loopback) connection.
await pro.loadHttpProxyAgent();
await check('watchOrderBook', async () => {
  const ob = await withTimeout(pro.watchOrderBook(symbol), 15000, 'watchOrderBook');
  const again = await withTimeout(pro.watchOrderBook(symbol), 15000, 'watchOrderBook update');
  assert(again.bids.length > 0 && again.asks.length > 0 && again.bids[0][0] < again.asks[0][0], 'bad streamed book');
  return `${again.bids[0][0]} / ${again.asks[0][0]}, nonce ${ob.nonce} → ${again.nonce}`;
});
await check('watchBidsAsks', async () => {
  const quotes = await withTimeout(pro.watchBidsAsks([symbol]), 15000, 'watchBidsAsks');
  assert(quotes[symbol]?.bid > 0, `quotes ${JSON.stringify(quotes)}`);
  return `bid ${quotes[symbol].bid} ask ${quotes[symbol].ask}`;
});
await check('watchTrades', async () => {
  const trades = await withTimeout(pro.watchTrades(symbol), 20000, 'watchTrades');
  assert(trades.length > 0, 'no trades');
  return `${trades.length} trades, last ${trades.at(-1).amount} @ ${trades.at(-1).price}`;
});

await check('watchOrders + a resting buy at the best bid filled as maker within a minute', async () => {
  const orders = pro.watchOrders(symbol); // subscribes to the user data stream (listenKey)
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const top = await rest.fetchOrderBook(symbol, 5);
  const order = await rest.createOrder(symbol, 'limit', 'buy', 0.005, top.bids[0][0], { timeInForce: 'GTX' });
  const deadline = Date.now() + 60000;
  let seen = await withTimeout(orders, 60000, 'watchOrders');
  let update = seen.find((o) => o.id === order.id);
  while ((!update || update.status !== 'closed') && Date.now() < deadline) {
    seen = await withTimeout(pro.watchOrders(symbol), deadline - Date.now(), 'the fill');
    update = seen.find((o) => o.id === order.id) ?? update;
  }
  assert(update?.status === 'closed', `order ${order.id} not filled: ${update?.status}`);
  const trades = await rest.fetchMyTrades(symbol, undefined, 50);
  const mine = trades.filter((t) => t.order === order.id);
  assert(mine.length > 0 && mine.every((t) => t.takerOrMaker === 'maker'), `trades ${JSON.stringify(mine.map((t) => t.takerOrMaker))}`);
  return `filled ${update.filled} @ ${update.average} in ${mine.length} maker trade(s), fee ${mine.reduce((s, t) => s + t.fee.cost, 0)}`;
});

await check('createOrderWs / cancelOrderWs over the WebSocket API', async () => {
  const top = await rest.fetchOrderBook(symbol, 5);
  const order = await withTimeout(pro.createOrderWs(symbol, 'limit', 'buy', 0.002, top.bids[0][0] - 10, { timeInForce: 'GTX' }), 15000, 'createOrderWs');
  const canceled = await withTimeout(pro.cancelOrderWs(order.id, symbol), 15000, 'cancelOrderWs');
  assert(canceled.status === 'canceled', `status ${canceled.status}`);
  return `order ${order.id} placed and canceled over ws-fapi`;
});

// The WebSocket connections end with the process (ccxt's close() rejects its own pending watchers).
console.log(failures === 0 ? `ccxt ${ccxt.version}: all checks passed` : `ccxt ${ccxt.version}: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
