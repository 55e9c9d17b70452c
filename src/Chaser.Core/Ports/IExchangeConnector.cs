using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Rules;

namespace Chaser.Core.Ports;

/// <summary>One request to the exchange, from one chaser command.</summary>
/// <param name="Command">What the chaser decided (place / modify / cancel / query).</param>
/// <param name="Symbol">The parent order's symbol.</param>
/// <param name="Rules">The symbol's filters: the connector formats prices and quantities on their grid.</param>
/// <param name="ReduceOnly">The parent order's reduce-only flag, carried to every child.</param>
public readonly record struct OrderRequest(ChaserCommand Command, string Symbol, SymbolRules Rules, bool ReduceOnly);

/// <summary>What became of one request handed to <see cref="IOrderGateway.Submit"/>.</summary>
/// <param name="Sent">Its bytes were handed to the socket; false when it was refused before (the rate guard).</param>
/// <param name="HandedOffTimestamp">When sent, the <see cref="TimeProvider.GetTimestamp"/> reading at the hand-off.</param>
public readonly record struct Submission(bool Sent, long HandedOffTimestamp)
{
    /// <summary>Not sent: nothing left for the exchange (its answer, a retryable reject, comes through the sink).</summary>
    public static Submission Refused => default;

    public static Submission HandedOffAt(long timestamp) => new(true, timestamp);
}

/// <summary>Where a host hands the requests its chaser decided: the exchange connector live, a scheduler in a backtest.</summary>
public interface IOrderGateway
{
    /// <summary>
    /// Sends one request without waiting for its answer (which arrives through the sink: accepted, rejected, order
    /// finished, unknown outcome, or for a query the order's trades as fills then its status). Says whether it was
    /// sent and when its bytes were handed to the socket; a request refused before any byte left is not sent.
    /// </summary>
    Submission Submit(in OrderRequest request);

    /// <summary>
    /// Runs the request's send path as far as the socket without sending it or changing any state (the rate guard asked,
    /// nothing taken; the frame built as a real one would be, then dropped): what keeps that path in the caches between
    /// real requests. Nothing to do where no such path exists (a backtest's scheduler).
    /// </summary>
    void Rehearse(in OrderRequest request)
    {
    }
}

/// <summary>
/// Where a connector delivers what it hears, each as one <see cref="ChaserInput"/>: market data by symbol (book,
/// depth, trade), answers and user-stream events about our orders (routed by client order id), a connection going
/// down or coming back (<see cref="ChaserInput.OfConnectivity"/>: market data for a symbol or every symbol, or order
/// entry), and the share of the account's order-rate budget still available. Implementations must be thread-safe and
/// must not block. A market frame's <see cref="ChaserInput.ReceivedTimestamp"/> is the
/// <see cref="TimeProvider.GetTimestamp"/> reading taken when it arrived, so the engine can measure tick-to-order latency.
/// </summary>
public interface IExchangeEventSink
{
    void OnInput(in ChaserInput input);
}

/// <summary>
/// The exchange as the engine sees it: symbol rules, market data subscriptions, the user data stream and order entry.
/// A port: the engine drives it, the Binance adapter implements it (for Binance and so for the simulator), tests
/// implement it in memory. Declared in the core so that adapters depend inward only.
/// </summary>
public interface IExchangeConnector : IOrderGateway, IAsyncDisposable
{
    /// <summary>Starts the user data stream (and whatever order entry needs), delivering into <paramref name="sink"/>.</summary>
    Task ConnectAsync(IExchangeEventSink sink, CancellationToken cancellationToken);

    Task<SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken);

    /// <summary>Starts book (and depth, trade) streams for a symbol; idempotent.</summary>
    Task SubscribeAsync(string symbol, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels every open order of ours on a symbol (used after a restart): those whose client id carries
    /// <paramref name="clientIdTag"/>. Other orders of the account, another instance's included, are left alone.
    /// </summary>
    Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken);
}

/// <summary>The side of a parent order, for the queue policy.</summary>
public readonly record struct SymbolSide(string Symbol, Side Side);

/// <summary>One child order of a parent as the exchange remembers it, with its fills.</summary>
public sealed record ChildHistory(string ClientOrderId, ExchangeOrderStatus Status, decimal ExecutedQuantity, IReadOnlyList<Fill> Fills);

/// <summary>
/// What the exchange remembers of a parent order's children (by their client order ids): the source of truth that
/// restart recovery repairs the tables from.
/// </summary>
public interface IExchangeHistory
{
    /// <summary>The children whose client ids carry <paramref name="clientIdTag"/> and <paramref name="parentId"/>, with their trades.</summary>
    Task<IReadOnlyList<ChildHistory>> GetChildHistoryAsync(string symbol, string clientIdTag, long parentId, DateTimeOffset since, CancellationToken cancellationToken);
}

/// <summary>
/// An exchange-side dead-man switch (Binance's countdownCancelAll): the exchange cancels every open order of a symbol
/// unless the countdown is renewed in time, so orders don't outlive a host that died.
/// </summary>
public interface IDeadManSwitch
{
    /// <summary>Arms or renews the countdown for a symbol; <see cref="TimeSpan.Zero"/> disarms it.</summary>
    Task ArmCancelAllAsync(string symbol, TimeSpan countdown, CancellationToken cancellationToken);
}
