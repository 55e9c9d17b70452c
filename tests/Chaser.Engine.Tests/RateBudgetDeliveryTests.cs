using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>
/// The account's rate budget reaches every order in the order the connector reported it, even when an order's own
/// request makes the connector report again while the first report is being delivered.
/// </summary>
public class RateBudgetDeliveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_budget_reported_again_from_inside_its_own_delivery_reaches_every_order_last()
    {
        // The Binance connector reports the budget under its lock (so that reports keep their order), from a socket's
        // or a timer's thread. Handled there, the first order's request was refused by the rate guard, which reported
        // the budget again from inside that delivery; the loop then handed the next order the older value, which it
        // kept as its last word (0.5 where the connector said 0).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc) { Time = time };
        var venue = new BudgetReportingVenue(exchange);
        var recorder = new BudgetRecorder();
        await using var engine = new ExecutionEngine(venue, recorder, time, new EngineOptions { Chaser = new ChaserOptions { MinRepriceInterval = TimeSpan.Zero } });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_001.0m);

        // The buy is routed first, so it comes first in every delivery; the sell only rests.
        var buy = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct);
        await ExecutionEngineTests.Until(() => exchange.Orders.Count == 1);
        var sell = engine.ExecuteAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), Ct);
        await ExecutionEngineTests.Until(() => exchange.Orders.Count == 2);

        // The budget runs out; the buy falls behind the bid and waits for it.
        venue.Report(0m);
        await ExecutionEngineTests.Until(() => recorder.RateBudgets(1).Length == 1 && recorder.RateBudgets(2).Length == 1);
        exchange.SetBook("BTCUSDT", 65_000.1m, 65_001.0m);

        // Some comes back; the buy's re-price is refused all the same (another window is still full): 0 again.
        venue.Refusing = true;
        venue.Report(0.5m);
        await ExecutionEngineTests.Until(() => recorder.RateBudgets(1).Length == 3 && recorder.RateBudgets(2).Length == 3);

        Assert.Equal([0m, 0.5m, 0m], recorder.RateBudgets(1));
        Assert.Equal([0m, 0.5m, 0m], recorder.RateBudgets(2)); // the sell's last word is the connector's last report

        venue.Refusing = false;
        venue.Report(1m);
        await CancelBudgetTests.EndAll(engine, time, buy, sell);
    }

    /// <summary>
    /// The in-memory exchange behind the rate budget as the Binance connector keeps it: each change reported to the
    /// sink under the budget's lock, and a request the rate guard refuses answered with a retryable reject and a report.
    /// </summary>
    private sealed class BudgetReportingVenue(InMemoryExchange exchange) : IExchangeConnector
    {
        private readonly Lock _budgetLock = new();
        private IExchangeEventSink? _sink;
        private decimal _last = 1m;

        public bool Refusing { get; set; }

        public void Report(decimal budget)
        {
            lock (_budgetLock)
            {
                if (budget != _last)
                {
                    _last = budget;
                    _sink!.OnInput(ChaserInput.OfRateBudget(budget));
                }
            }
        }

        public Submission Submit(in OrderRequest request)
        {
            if (!Refusing)
            {
                return exchange.Submit(request);
            }

            var command = request.Command;
            _sink!.OnInput(ChaserInput.OfRejected(new OrderRejected(command.ClientOrderId, command.Kind == ChaserCommandKind.Modify ? RequestKind.Modify : RequestKind.Place, RejectKind.Retryable, -1015, "order rate limit", DateTimeOffset.UtcNow)));
            Report(0m);
            return Submission.Refused;
        }

        public Task ConnectAsync(IExchangeEventSink sink, CancellationToken cancellationToken)
        {
            _sink = sink;
            return exchange.ConnectAsync(sink, cancellationToken);
        }

        public Task<SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken) => exchange.GetSymbolRulesAsync(symbol, cancellationToken);

        public Task SubscribeAsync(string symbol, CancellationToken cancellationToken) => exchange.SubscribeAsync(symbol, cancellationToken);

        public Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken) => exchange.CancelAllAsync(symbol, clientIdTag, cancellationToken);

        public ValueTask DisposeAsync() => exchange.DisposeAsync();
    }
}
