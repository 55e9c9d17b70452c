using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Backtesting.Tests;

/// <summary><see cref="BacktestOptions.QueueModel"/> reaches the backtest's matching engine.</summary>
public class QueueModelBacktestTests
{
    [Theory]
    [InlineData(QueueModel.Proportional, FinishReason.Filled, "0.016")]
    [InlineData(QueueModel.RiskAverse, FinishReason.Expired, "0")]
    public void Cancels_ahead_of_our_bid_fill_it_only_under_the_proportional_model(QueueModel model, FinishReason status, string filled)
    {
        // Our buy joins 1 BTC at 60,000.0; 2 join behind it, then 1.5 cancel, then a seller prints 0.6 there. Proportionally
        // half of those cancels were ahead of us (0.5 left, the print fills us); risk-averse, none were (1 left, no fill).
        using var files = new RecordingFiles("BTCUSDT", "chaser-queue-model-");
        const long t0 = 1_721_347_022_000;
        var data = new ReplayFiles
        {
            Symbol = "BTCUSDT",
            DepthSnapshot = files.Write(
                "depthSnapshot",
                "local_ts,last_update_id,event_time,transaction_time,side,price,qty",
                $"0,100,{t0},{t0},bid,60000.0,1.000",
                $"0,100,{t0},{t0},bid,59999.9,2.000",
                $"0,100,{t0},{t0},ask,60000.5,1.000",
                $"0,100,{t0},{t0},ask,60000.6,2.000"),
            DepthUpdates = files.Write(
                "depthUpdates",
                "local_ts,event_time,transaction_time,first_update_id,final_update_id,prev_final_update_id,side,price,qty",
                $"0,{t0 + 200},{t0 + 200},101,101,100,bid,60000.0,3.000",
                $"0,{t0 + 400},{t0 + 400},102,102,101,bid,60000.0,1.500",
                $"0,{t0 + 700},{t0 + 700},103,103,102,bid,60000.0,0.900"),
            BookTicker = files.Write(
                "bookTicker",
                "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time",
                $"100,60000.0,1.000,60000.5,1.000,{t0 + 10},{t0 + 10}",
                $"101,60000.0,3.000,60000.5,1.000,{t0 + 200},{t0 + 200}",
                $"102,60000.0,1.500,60000.5,1.000,{t0 + 400},{t0 + 400}",
                $"103,60000.0,0.900,60000.5,1.000,{t0 + 700},{t0 + 700}",
                $"104,60000.0,0.900,60000.5,1.200,{t0 + 900},{t0 + 900}"),
            Trades = files.Write(
                "trades",
                "id,price,qty,quote_qty,time,is_buyer_maker",
                $"1,60000.0,0.600,36000.0,{t0 + 600},true"),
        };

        var result = Backtester.Run(
            new BacktestOptions { Order = new ParentOrderSpec(16, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), Data = data, QueueModel = model },
            cancellationToken: TestContext.Current.CancellationToken);

        var execution = result.Execution;
        Assert.Equal(status, execution.Status);
        Assert.Equal(decimal.Parse(filled, System.Globalization.CultureInfo.InvariantCulture), execution.FilledQuantity);
        Assert.All(execution.Fills, f => Assert.Equal((60_000.0m, true), (f.Price, f.IsMaker)));
    }
}
