// Drives a running `chaser sim` with Binance's official USDⓈ-M connector and an Ed25519 key: the WebSocket API's
// session.logon (through the connector's own sendMessage, as its Spot API does it), orders on the logged-on connection
// (the connector then leaves out apiKey and signature), session.status, session.logout, and a signed order after it.
// Usage: node logon.mjs http://127.0.0.1:8090 <ed25519 apiKey> <PKCS#8 PEM private key file>
// Prints one line per check; exits non-zero when any check fails.
process.env.LOG_LEVEL ??= 'warn';
const { DerivativesTradingUsdsFutures } = await import('@binance/derivatives-trading-usds-futures');

const base = (process.argv[2] ?? 'http://127.0.0.1:8090').replace(/\/$/, '');
const apiKey = process.argv[3];
const privateKey = process.argv[4];
const symbol = 'BTCUSDT';
const client = new DerivativesTradingUsdsFutures({
  configurationWebsocketAPI: { apiKey, privateKey, wsURL: `${base.replace(/^http/, 'ws')}/ws-fapi/v1`, timeout: 10000 },
});

let failures = 0;
process.on('uncaughtException', (error) => {
  console.log(`FAIL  uncaught ${error?.constructor?.name}: ${error?.message ?? error}`.slice(0, 600));
  process.exit(1);
});
async function check(name, action) {
  try {
    const detail = await action();
    console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    failures++;
    console.log(`FAIL  ${name}: ${error?.message ?? error} ${JSON.stringify(error?.response?.data ?? error?.error ?? '')}`.slice(0, 600));
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}
const withTimeout = (promise, ms, what) => Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))]);
async function restingPrice() {
  const book = await (await fetch(`${base}/fapi/v1/ticker/bookTicker?symbol=${symbol}`)).json();
  return (Math.round(Number(book.bidPrice) * 10) / 10 - 50).toFixed(1);
}
async function placeAndCancel(ws, what) {
  const placed = await withTimeout(ws.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: 0.002, price: await restingPrice() }), 10000, `${what} order.place`);
  assert(placed.data.status === 'NEW', `placed ${JSON.stringify(placed.data)}`);
  const canceled = await withTimeout(ws.cancelOrder({ symbol, orderId: placed.data.orderId }), 10000, `${what} order.cancel`);
  assert(canceled.data.status === 'CANCELED', `canceled ${JSON.stringify(canceled.data)}`);
  return placed.data.orderId;
}

const ws = await withTimeout(client.websocketAPI.connect(), 10000, 'ws-fapi connect');
const session = ws.websocketBase;
await check('session.logon with the Ed25519 key', async () => {
  const [logon] = await withTimeout(session.sendMessage('session.logon', {}, { isSigned: true, isSessionLogon: true }), 10000, 'session.logon');
  assert(logon.data.apiKey === apiKey && logon.data.authorizedSince > 0, `logon ${JSON.stringify(logon.data)}`);
  return `authorized since ${logon.data.authorizedSince}`;
});
await check('order.place / order.cancel on the logged-on connection (no apiKey, no signature)', async () => `order ${await placeAndCancel(ws, 'logged on')}`);
await check('session.status names the key', async () => {
  const status = await withTimeout(session.sendMessage('session.status', {}, {}), 10000, 'session.status');
  assert(status.data.apiKey === apiKey, `status ${JSON.stringify(status.data)}`);
});
await check('session.logout forgets it; signed orders still work', async () => {
  const [logout] = await withTimeout(session.sendMessage('session.logout', {}, { isSessionLogout: true }), 10000, 'session.logout');
  assert(logout.data.apiKey === null, `logout ${JSON.stringify(logout.data)}`);
  return `order ${await placeAndCancel(ws, 'signed')}`;
});

ws.disconnect?.();
console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
