using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Rules;

namespace Chaser.Core.Tests;

/// <summary>Drives one chaser through an event script with a hand-held clock, keeping every command it issued.</summary>
internal sealed class ChaserHarness
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The instance tag the harness's chasers put in their client order ids.</summary>
    public const string Tag = "tst001";

    private long _updateId = 1000;
    private long _tradeId = 5000;
    private long _orderId = 900;

    public ChaserHarness(ParentOrderSpec spec, SymbolRules? rules = null, ChaserOptions? options = null)
    {
        Machine = new ChaserStateMachine(spec, rules ?? TestRules.Btc, options ?? new ChaserOptions(), Tag);
        Record(Machine.Start(Now));
    }

    public ChaserStateMachine Machine { get; }

    public DateTimeOffset Now { get; private set; } = T0;

    public List<ChaserCommand> All { get; } = [];

    public BookTop LastBook { get; private set; }

    public static ChaserHarness BuyNotional(decimal notional, ChaserOptions? options = null, DateTimeOffset? deadline = null, DeadlineAction onDeadline = DeadlineAction.CancelAndExpire) =>
        new(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, notional) { Deadline = deadline, OnDeadline = onDeadline }, options: options);

    public static ChaserHarness SellQuantity(decimal quantity, ChaserOptions? options = null) =>
        new(new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, quantity), options: options);

    public void Advance(double milliseconds) => Now = Now.AddMilliseconds(milliseconds);

    public ChaserCommand[] Book(decimal bid, decimal ask, decimal bidQty = 5m, decimal askQty = 5m)
    {
        LastBook = new BookTop(bid, bidQty, ask, askQty, ++_updateId, Now);
        return Record(Machine.OnBookTop(LastBook, Now));
    }

    public ChaserCommand[] Depth(decimal[] bids, decimal[] asks) =>
        Record(Machine.OnDepth(
            new DepthLevels(bids.Select(p => new PriceLevel(p, 1m)).ToArray(), asks.Select(p => new PriceLevel(p, 1m)).ToArray(), ++_updateId, Now),
            Now));

    public ChaserCommand[] DepthWithSizes(PriceLevel[] bids, PriceLevel[] asks) =>
        Record(Machine.OnDepth(new DepthLevels(bids, asks, ++_updateId, Now), Now));

    public ChaserCommand[] Ack(ChaserCommand command) =>
        Record(Machine.OnAccepted(new OrderAccepted(command.ClientOrderId, ++_orderId, command.Price, command.Quantity, command.Kind == ChaserCommandKind.Modify, Now, Now)));

    public ChaserCommand[] Reject(ChaserCommand command, RejectKind kind, int code = -5022) =>
        Record(Machine.OnRejected(new OrderRejected(command.ClientOrderId, ToRequest(command.Kind), kind, code, "test", Now)));

    public ChaserCommand[] Fill(string clientOrderId, decimal price, decimal quantity, decimal cumulative, bool full, long? tradeId = null, bool maker = true) =>
        Record(Machine.OnFill(new Fill(clientOrderId, tradeId ?? ++_tradeId, price, quantity, price * quantity * 0.0002m, "USDT", maker, cumulative, full, Now, Now)));

    public ChaserCommand[] Finished(string clientOrderId, ExchangeOrderStatus status, decimal executed) =>
        Record(Machine.OnOrderFinished(new OrderFinished(clientOrderId, status, executed, Now, Now)));

    public ChaserCommand[] Unknown(ChaserCommand command) =>
        Record(Machine.OnOutcomeUnknown(new RequestOutcomeUnknown(command.ClientOrderId, ToRequest(command.Kind), Now)));

    public ChaserCommand[] Status(string clientOrderId, bool found, ExchangeOrderStatus status = ExchangeOrderStatus.New, decimal price = 0m, decimal quantity = 0m, decimal executed = 0m) =>
        Record(Machine.OnStatusReport(new OrderStatusReport(clientOrderId, found, status, price, quantity, executed, Now)));

    public ChaserCommand[] Timer() => Record(Machine.OnTimer(Now));

    public ChaserCommand[] Lost(ConnectionScope scope) => Record(Machine.OnConnectivityLost(scope, Now));

    public ChaserCommand[] Restored(ConnectionScope scope) => Record(Machine.OnConnectivityRestored(scope, Now));

    public ChaserCommand[] Budget(decimal fraction) => Record(Machine.OnRateBudget(fraction, Now));

    public ChaserCommand[] UserCancel() => Record(Machine.OnUserCancel(Now));

    public ChaserCommand[] CancelBudget(bool youngCancelsAllowed) => Record(Machine.OnCancelBudget(youngCancelsAllowed, Now));

    /// <summary>Book, then ack of the single place it produces: a child resting at the best price.</summary>
    public ChaserCommand Rest(decimal bid, decimal ask)
    {
        var place = Assert.Single(Book(bid, ask));
        Assert.Equal(ChaserCommandKind.Place, place.Kind);
        Assert.Empty(Ack(place));
        return place;
    }

    private static RequestKind ToRequest(ChaserCommandKind kind) => kind switch
    {
        ChaserCommandKind.Place => RequestKind.Place,
        ChaserCommandKind.Modify => RequestKind.Modify,
        ChaserCommandKind.Cancel => RequestKind.Cancel,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no request for this command"),
    };

    private ChaserCommand[] Record(ChaserDecisions decisions)
    {
        var commands = decisions.ToArray();
        All.AddRange(commands);
        return commands;
    }
}
