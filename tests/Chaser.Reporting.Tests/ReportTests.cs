using Chaser.Storage;
using Parquet.Serialization;

namespace Chaser.Reporting.Tests;

/// <summary>
/// The report from stored rows (SQLite, as a user's chaser.db): the metrics against hand-worked values, and the same
/// rows as CSV, Parquet and a PNG chart.
/// </summary>
public sealed class ReportTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"chaser-report-{Guid.NewGuid():N}.db");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Database => "Data Source=" + _file;

    public async ValueTask InitializeAsync()
    {
        await using var db = new ChaserDb(Database);
        await DatabaseMigrator.MigrateAsync(db, Ct);

        // A sell of 0.3 BTC with price_expected 65,000: 0.1 @ 65,000.2 at +1 s, 0.2 @ 65,000.1 at +3 s; done at +4 s.
        // Book: 64,999.9 / 65,000.2 at 0 s; 65,000.0 / 65,000.1 at +2 s; 64,999.0 / 64,999.1 at +5 s (still at +65 s).
        // Tape: 0.5 @ 65,000.0 at +0.5 s and 0.5 @ 65,001.0 at +2.5 s inside the order's life; 9 @ 60,000 at +30 s outside.
        var order = new OrderRow
        {
            Symbol = "BTCUSDT",
            Side = -1,
            Size = 0.3m,
            SizeType = "q",
            PriceExpected = 65_000m,
            Strategy = "s1",
            Status = OrderStatus.Filled,
            CreatedAt = T0,
            StartedAt = T0,
            CompletedAt = T0.AddSeconds(4),
            ArrivalMid = 65_000.05m,
            FilledQty = 0.3m,
            FilledNotional = 19_500.04m,
            AvgPrice = 65_000.1333333333333333333333m,
            Fees = 3.9m,
            ChildOrders = 2,
            Modifies = 1,
            Cancels = 1,
        };
        db.Orders.Add(order);
        db.Orders.Add(new OrderRow { Symbol = "ETHUSDT", Side = 1, Size = 500m, SizeType = "n", Strategy = "s2", Status = OrderStatus.Canceled, CreatedAt = T0, StartedAt = T0, CompletedAt = T0.AddSeconds(2) });
        await db.SaveChangesAsync(Ct);
        var id = order.Id;
        db.Fills.AddRange(
            new FillRow { OrderId = id, ClientOrderId = $"chs-{id}-1", TradeId = 1, Price = 65_000.2m, Qty = 0.1m, Fee = 1.3m, IsMaker = true, ExchangeTime = T0.AddSeconds(1), ReceivedTime = T0.AddSeconds(1.01) },
            new FillRow { OrderId = id, ClientOrderId = $"chs-{id}-2", TradeId = 2, Price = 65_000.1m, Qty = 0.2m, Fee = 2.6m, IsMaker = true, ExchangeTime = T0.AddSeconds(3), ReceivedTime = T0.AddSeconds(3.01) });
        db.Mids.AddRange(
            Mid(id, 0, 64_999.9m, 65_000.2m), Mid(id, 2, 65_000.0m, 65_000.1m), Mid(id, 5, 64_999.0m, 64_999.1m), Mid(id, 65, 64_999.0m, 64_999.1m));
        db.MarketTrades.AddRange(Print(id, 0.5, 65_000m, 0.5m), Print(id, 2.5, 65_001m, 0.5m), Print(id, 30, 60_000m, 9m));
        db.Events.AddRange(
            new EventRow { OrderId = id, Time = T0, Kind = "place", ClientOrderId = $"chs-{id}-1", Price = 65_000.2m, Qty = 0.3m, Trigger = "book_top", Rule = "post_at_best", TickToOrderUs = 40, HopUs = 4 },
            new EventRow { OrderId = id, Time = T0.AddSeconds(2), Kind = "cancel", ClientOrderId = $"chs-{id}-1", Trigger = "book_top", Rule = "reprice", TickToOrderUs = 10, HopUs = 9 },
            new EventRow { OrderId = id, Time = T0.AddSeconds(2.1), Kind = "place", ClientOrderId = $"chs-{id}-2", Price = 65_000.1m, Qty = 0.2m, Trigger = "order_finished", Rule = "post_at_best", TickToOrderUs = 20, HopUs = 7 },
            new EventRow { OrderId = id, Time = T0.AddSeconds(4), Kind = "finish", Trigger = "fill", Rule = "target_reached", FinishReason = "filled" });
        await db.SaveChangesAsync(Ct);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_file);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Metrics_from_stored_rows_match_the_hand_worked_values()
    {
        var report = await BuildAsync();
        var r = report.Orders[0];

        Assert.Equal(("BTCUSDT", "sell", "filled"), (r.Symbol, r.Side, r.Status));
        Assert.Equal(0.3m, r.FilledQty);
        Assert.Equal(19_500.04m, r.FilledNotional);
        Assert.Equal(1m, r.FillRate);
        Assert.Equal(65_000.13333333m, r.AvgPrice); // 19,500.04 / 0.3, to 8 places

        // Sell: cost = −(avg − ref) / ref. Arrival 65,000.05: −0.08333…/65,000.05 = −0.0128205 bp → −0.0128.
        Assert.Equal(-0.0128m, r.SlippageBps);
        Assert.Equal(-0.0000012821m, r.Slippage);
        // Expected 65,000: −0.13333…/65,000 = −0.0205128 bp.
        Assert.Equal(-0.0205m, r.SlippageVsExpectedBps);
        // VWAP of the tape within [0 s, 4 s]: (0.5 × 65,000 + 0.5 × 65,001) / 1 = 65,000.5; −(65,000.1333 − 65,000.5) / 65,000.5 = +0.0564 bp.
        Assert.Equal(65_000.5m, r.MarketVwap);
        Assert.Equal(0.0564m, r.SlippageVsVwapBps);

        // Fill 1 at +1 s against 64,999.9/65,000.2 (mid 65,000.05): earned 0.1 × 0.15 of 0.1 × 0.15. Fill 2 at +3 s
        // against 65,000.0/65,000.1 (mid 65,000.05): earned 0.2 × 0.05 of 0.2 × 0.05. All of it: 1.
        Assert.Equal(1m, r.HalfSpreadCaptured);
        Assert.Equal(1m, r.MakerFraction);
        Assert.Equal(3.9m, r.Fees);
        Assert.Equal(4.0, r.DurationSeconds);
        Assert.Equal(1.0, r.TimeToFirstFillSeconds);
        Assert.Equal((2, 1, 1, 2), (r.ChildOrders, r.Modifies, r.Cancels, r.Fills));

        // Places and modifies only (the cancel doesn't count): 2 in the busiest 10 s, of Binance's 300.
        Assert.Equal(2, r.OrderRequests);
        Assert.Equal(0.006667m, r.OrderBudgetPeak10s);
        Assert.Equal((20.0, 40.0), (r.TickToOrderP50Us!.Value, r.TickToOrderP99Us!.Value)); // 10, 20, 40: nearest rank
        Assert.Equal((7.0, 9.0), (r.HopP50Us!.Value, r.HopP99Us!.Value)); // 4, 7, 9: the hop, apart from tick-to-order

        // Markouts (sell: side × (price − later mid) / price with side −1). +1 s: fill 1 → mid at +2 s 65,000.05:
        // −(65,000.2 − 65,000.05) / 65,000.2; fill 2 → mid at +4 s (from +2 s) 65,000.05: −(65,000.1 − 65,000.05) / 65,000.1.
        var oneSecond = -((0.1m * (65_000.2m - 65_000.05m) / 65_000.2m) + (0.2m * (65_000.1m - 65_000.05m) / 65_000.1m)) / 0.3m * 10_000m;
        Assert.Equal(Math.Round(oneSecond, 4), r.Markout1sBps);
        // +10 s and +60 s: the mid is 64,999.05 for both fills: the market fell after we sold — in our favour, negative.
        var later = -((0.1m * (65_000.2m - 64_999.05m) / 65_000.2m) + (0.2m * (65_000.1m - 64_999.05m) / 65_000.1m)) / 0.3m * 10_000m;
        Assert.Equal(Math.Round(later, 4), r.Markout10sBps);
        Assert.Equal(Math.Round(later, 4), r.Markout60sBps);
    }

    [Fact]
    public async Task An_order_without_fills_or_a_tape_reports_nulls_and_groups_apart()
    {
        var report = await BuildAsync();
        var eth = report.Orders[1];

        Assert.Equal(("ETHUSDT", "buy", "canceled", 0m), (eth.Symbol, eth.Side, eth.Status, eth.FillRate));
        Assert.Null(eth.AvgPrice);
        Assert.Null(eth.SlippageBps);
        Assert.Null(eth.MarketVwap);
        Assert.Null(eth.Markout1sBps);
        Assert.Equal(["BTCUSDT/sell/s1", "ETHUSDT/buy/s2"], report.Aggregates.Select(a => $"{a.Symbol}/{a.Side}/{a.Strategy}"));
        Assert.Equal(-0.0128m, report.Aggregates[0].SlippageBps);
        Assert.Null(report.Aggregates[1].SlippageBps);
    }

    [Fact]
    public async Task Implementation_shortfall_of_a_filled_order_is_its_cost_beyond_the_arrival_mid_plus_fees()
    {
        var r = (await BuildAsync()).Orders[0];

        // Sell 0.3 at M0 = 65,000.05, all filled for 19,500.04: −1 × (19,500.04 − 0.3 × 65,000.05) = −0.025; fees 3.9;
        // nothing left. 3.875 USDT of 0.3 × 65,000.05 = 19,500.015: 1.98717… bp. The end mid is the last mid received
        // by the end (+4 s): the sample of +2 s, 65,000.05.
        Assert.Equal(65_000.05m, r.EndMid);
        Assert.Equal(0m, r.OpportunityCost);
        Assert.Equal(3.875m, r.ImplementationShortfall);
        Assert.Equal(Math.Round(3.875m / 19_500.015m * 10_000m, 4), r.ImplementationShortfallBps);

        // The canceled ETH order never saw a book: no arrival mid, no shortfall.
        var eth = (await BuildAsync()).Orders[1];
        Assert.Null(eth.ImplementationShortfall);
        Assert.Null(eth.ImplementationShortfallBps);
    }

    [Fact]
    public async Task The_remainder_is_valued_at_the_last_mid_the_order_recorded_not_at_the_markout_tail()
    {
        // Buy 0.2 BTC at M0 = 65,000, expired at +4 s with 0.1 @ 65,000.5 (fee 1.3 USDT). Mids received at +0.01 s
        // (65,000) and +3.01 s (65,010) while it worked; the markout tail's +4.5 s (65,100) is after its end.
        // IS = 0.1 × 0.5 + 1.3 + 0.1 × (65,010 − 65,000) = 0.05 + 1.3 + 1 = 2.35 USDT, of 0.2 × 65,000 = 13,000: 1.8077 bp.
        var id = await AddAsync(
            new OrderRow { Symbol = "BTCUSDT", Side = 1, Size = 0.2m, SizeType = "q", Strategy = "s1", Status = OrderStatus.Expired, CreatedAt = T0, StartedAt = T0, CompletedAt = T0.AddSeconds(4), ArrivalMid = 65_000m },
            id => [new FillRow { OrderId = id, ClientOrderId = $"chs-{id}-1", TradeId = 7, Price = 65_000.5m, Qty = 0.1m, Fee = 1.3m, FeeAsset = "USDT", IsMaker = true, ExchangeTime = T0.AddSeconds(1), ReceivedTime = T0.AddSeconds(1.01) }],
            id => [Mid(id, 0, 64_999.5m, 65_000.5m), Mid(id, 3, 65_009.5m, 65_010.5m), Mid(id, 4.49, 65_099.5m, 65_100.5m)]);

        var report = await BuildAsync();
        var r = report.Orders.Single(o => o.Id == id);

        Assert.Equal(65_010m, r.EndMid);
        Assert.Equal(1m, r.OpportunityCost);
        Assert.Equal(2.35m, r.ImplementationShortfall);
        Assert.Equal(1.8077m, r.ImplementationShortfallBps);

        // The group BTCUSDT/buy/s1 is this order alone.
        var group = report.Aggregates.Single(a => a.Symbol == "BTCUSDT" && a.Side == "buy");
        Assert.Equal((2.35m, 1.8077m), (group.ImplementationShortfall!.Value, group.ImplementationShortfallBps!.Value));
    }

    [Fact]
    public async Task A_fee_paid_in_bnb_leaves_the_shortfall_empty_rather_than_adding_bnb_to_usdt()
    {
        var id = await AddAsync(
            new OrderRow { Symbol = "BTCUSDT", Side = 1, Size = 0.1m, SizeType = "q", Strategy = "bnb", Status = OrderStatus.Filled, CreatedAt = T0, StartedAt = T0, CompletedAt = T0.AddSeconds(4), ArrivalMid = 65_000m },
            id => [new FillRow { OrderId = id, ClientOrderId = $"chs-{id}-1", TradeId = 8, Price = 65_000.5m, Qty = 0.1m, Fee = 0.002m, FeeAsset = "BNB", IsMaker = true, ExchangeTime = T0.AddSeconds(1), ReceivedTime = T0.AddSeconds(1.01) }],
            id => [Mid(id, 0, 64_999.5m, 65_000.5m)]);

        var r = (await BuildAsync()).Orders.Single(o => o.Id == id);

        Assert.NotNull(r.SlippageBps); // the fill's price is known; only its fee can't be stated in USDT
        Assert.Null(r.ImplementationShortfall);
        Assert.Null(r.ImplementationShortfallBps);
    }

    [Fact]
    public async Task Csv_and_parquet_carry_the_same_rows_and_columns()
    {
        var report = await BuildAsync();

        var csv = ReportFiles.ToCsv(report.Orders).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(',', ReportFiles.ColumnNames), csv[0]);
        Assert.Equal(3, csv.Length);
        var cells = csv[2].Split(',');
        Assert.Equal("", cells[ReportFiles.ColumnNames.ToList().IndexOf("avg_price")]); // null is an empty cell, not 0
        Assert.Equal("2026-11-30T09:00:00.000000Z", csv[1].Split(',')[ReportFiles.ColumnNames.ToList().IndexOf("started_at")]);

        using var parquet = new MemoryStream();
        await ReportFiles.WriteParquetAsync(report.Orders, parquet, Ct);
        parquet.Position = 0;
        var back = await ParquetSerializer.DeserializeAsync<ReportRow>(parquet, cancellationToken: Ct);
        Assert.Equal(ReportFiles.ColumnNames, back.Schema.GetDataFields().Select(f => f.Name));
        Assert.Equal(report.Orders.Select(o => (o.Id, o.Symbol, o.AvgPrice, o.SlippageBps, o.Markout60sBps, o.StartedAt)),
            back.Data.Select(o => (o.Id, o.Symbol, o.AvgPrice, o.SlippageBps, o.Markout60sBps, o.StartedAt)));
    }

    [Fact]
    public void A_text_cell_a_spreadsheet_would_run_as_a_formula_stays_text_and_numbers_stay_numbers()
    {
        var row = new ReportRow { Id = 1, Symbol = "BTCUSDT", Strategy = "=HYPERLINK(\"http://x\",\"y\")", Side = "buy", Status = "filled", SlippageBps = -1.5m };

        var cells = ReportFiles.ToCsv([row]).Split("\r\n")[1];

        Assert.Contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",", cells, StringComparison.Ordinal);
        Assert.Contains(",-1.5,", cells, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chart_is_a_png_of_the_asked_size()
    {
        await using var db = new ChaserDb(Database);
        var executions = await StoredExecution.LoadAsync(db, db.Orders, Ct);

        var png = ExecutionChart.RenderPng(executions[0], 800, 400);

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4))); // IHDR width
        Assert.Equal(400, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
        Assert.True(png.Length > 5_000, "an empty plot");
    }

    private async Task<ExecutionReport> BuildAsync()
    {
        await using var db = new ChaserDb(Database);
        return ExecutionReport.Build(await StoredExecution.LoadAsync(db, db.Orders, Ct), T0.AddMinutes(5));
    }

    private async Task<long> AddAsync(OrderRow order, Func<long, FillRow[]> fills, Func<long, MidRow[]> mids)
    {
        await using var db = new ChaserDb(Database);
        db.Orders.Add(order);
        await db.SaveChangesAsync(Ct);
        db.Fills.AddRange(fills(order.Id));
        db.Mids.AddRange(mids(order.Id));
        await db.SaveChangesAsync(Ct);
        return order.Id;
    }

    private static MidRow Mid(long id, double seconds, decimal bid, decimal ask) =>
        new() { OrderId = id, Bid = bid, Ask = ask, Mid = (bid + ask) / 2, ExchangeTime = T0.AddSeconds(seconds), ReceivedTime = T0.AddSeconds(seconds + 0.01) };

    private static MarketTradeRow Print(long id, double seconds, decimal price, decimal qty) =>
        new() { OrderId = id, Price = price, Qty = qty, ExchangeTime = T0.AddSeconds(seconds), ReceivedTime = T0.AddSeconds(seconds + 0.01) };
}
