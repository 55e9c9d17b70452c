using System.Collections.Concurrent;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Tests;

internal sealed class RecordingObserver : IExchangeObserver
{
    public ConcurrentQueue<OrderUpdate> Orders { get; } = new();
    public ConcurrentQueue<AccountUpdate> Accounts { get; } = new();
    public ConcurrentQueue<DepthUpdate> Depth { get; } = new();
    public ConcurrentQueue<BookTicker> Tickers { get; } = new();
    public ConcurrentQueue<PublicTrade> Trades { get; } = new();

    public void OnAccountUpdate(AccountUpdate update) => Accounts.Enqueue(update);

    public void OnBookTicker(BookTicker ticker) => Tickers.Enqueue(ticker);

    public void OnDepthUpdate(DepthUpdate update) => Depth.Enqueue(update);

    public void OnOrderUpdate(OrderUpdate update) => Orders.Enqueue(update);

    public void OnTrade(PublicTrade trade) => Trades.Enqueue(trade);
}
