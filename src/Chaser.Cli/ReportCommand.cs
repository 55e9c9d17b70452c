using System.CommandLine;
using System.Globalization;
using Chaser.Core.Domain;
using Chaser.Reporting;
using Chaser.Storage;
using Spectre.Console;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser report</c>: post-trade metrics of recorded parent orders as a terminal table, CSV, Parquet, JSON and one
/// PNG chart per order.
/// </summary>
internal static class ReportCommand
{
    private static readonly Option<long[]?> Ids = new("--ids")
    {
        Description = "only these parent orders (comma-separated ids)",
        HelpName = "1,2",
        // One value, as every option here: an array's default arity would gather "--ids 1 --ids 2" and "--ids 1 2".
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = CliOption.Parser<long[]?>("--ids", IdsFrom),
    };

    private static readonly Option<string?> Strategy = CliOption.Text("--strategy", "TAG", "only orders of this strategy");
    private static readonly Option<string?> Since = CliOption.Text(
        "--since", "T", "only orders created since T: an ISO 8601 time (2026-11-30T09:00Z) or a duration back from now (90m, 2h, 7d)");

    private static readonly Option<string?> Csv = CliOption.Text("--csv", "FILE", "also write the rows as CSV to FILE");
    private static readonly Option<string?> Parquet = CliOption.Text("--parquet", "FILE", "also write the rows as Parquet to FILE");
    private static readonly Option<string?> Charts = CliOption.Text(
        "--charts", "DIR", "write one PNG chart per order into DIR (order-<id>.png): bid/ask/mid, our order's price, fills");

    private static readonly Option<bool> Json = CliOption.Json("print the report (rows and aggregates) as JSON instead of the tables");
    private static readonly Option<string?> Database = CliOption.Database("the database");

    public static readonly Command Definition = new("report", "post-trade metrics of recorded orders: table, CSV, Parquet, JSON, PNG charts")
    {
        Ids, Strategy, Since, Csv, Parquet, Charts, Json, Database,
    };

    public const string Notes = """
          Slippage and markouts are in basis points, positive = cost. Markouts need the book after each fill: the engine
          samples it for 60 s after an order ends while the process runs (chaser serve); a horizon the record doesn't
          reach is shown as "-".
        """;

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var ids = CliOption.ValueGiven(args, Ids);
        var strategy = args.GetValue(Strategy);
        var since = SinceFrom(args.GetValue(Since), context.Time.GetUtcNow());
        var database = Recording.ConnectionString(args.GetValue(Database), context.Environment);
        await Recording.MigrateAsync(database, context.Stop).ConfigureAwait(false);

        await using var db = new ChaserDb(database);
        var executions = await StoredExecution.LoadAsync(db, db.Orders.Matching(ids, strategy, since), context.Stop).ConfigureAwait(false);
        var report = ExecutionReport.Build(executions, context.Time.GetUtcNow());
        if (ids is not null && ids.Except(report.Orders.Select(r => r.Id)).ToArray() is { Length: > 0 } missing)
        {
            throw new UsageException($"option '--ids': no order {string.Join(", ", missing)} in {Recording.Describe(database)}");
        }

        var written = new List<string>();
        if (args.GetValue(Csv) is { } csvPath)
        {
            await WriteAsync("--csv", csvPath, () => File.WriteAllTextAsync(csvPath, ReportFiles.ToCsv(report.Orders), context.Stop)).ConfigureAwait(false);
            written.Add(csvPath);
        }

        if (args.GetValue(Parquet) is { } parquetPath)
        {
            await WriteAsync("--parquet", parquetPath, async () =>
            {
                await using var file = File.Create(parquetPath);
                await ReportFiles.WriteParquetAsync(report.Orders, file, context.Stop).ConfigureAwait(false);
            }).ConfigureAwait(false);
            written.Add(parquetPath);
        }

        if (args.GetValue(Charts) is { } chartDirectory)
        {
            await WriteAsync("--charts", chartDirectory, () =>
            {
                Directory.CreateDirectory(chartDirectory);
                foreach (var execution in executions)
                {
                    var path = Path.Combine(chartDirectory, $"order-{execution.Order.Id}.png");
                    ExecutionChart.SavePng(execution, path);
                    written.Add(path);
                }

                return Task.CompletedTask;
            }).ConfigureAwait(false);
        }

        if (args.GetValue(Json))
        {
            await context.Output.WriteLineAsync(ReportFiles.ToJson(report)).ConfigureAwait(false);
            return 0;
        }

        var console = ResultTable.ConsoleFor(context.Output, context.Interactive, context.Columns);
        if (report.Orders.Count == 0)
        {
            console.WriteLine($"no orders in {Recording.Describe(database)} match");
            return 0;
        }

        var (width, unicode) = (console.Profile.Width, console.Profile.Capabilities.Unicode);
        console.Write(FittedTable.Build(OrderColumns, report.Orders, width, "slippage vs the arrival mid, price_expected and the market's VWAP over the order's life; IS: shortfall vs the arrival mid with fees and the unfilled remainder; bp, positive = cost", unicode));
        foreach (var r in report.Orders.Where(r => r.Status != "filled" && !string.IsNullOrEmpty(r.StatusDetail)))
        {
            // The reason an order did not fill is part of its record, not only of a log; wrapped at words within the width.
            console.Write(new Text($"#{r.Id} {r.Status}: {r.StatusDetail}"));
            console.WriteLine();
        }

        console.Write(FittedTable.Build(QualityColumns, report.Orders, width, "½-spread earned: 1 = every fill at our touch, 0 = at the mid; markouts: mid move against us after each fill, size-weighted", unicode));
        console.Write(FittedTable.Build(AggregateColumns, report.Aggregates, width, null, unicode).Title("by symbol, side and strategy (weighted by filled notional; IS by each target's notional at arrival)"));
        foreach (var path in written)
        {
            console.WriteLine("wrote " + path);
        }

        return 0;
    }

    /// <summary>Runs one output's writes; a path the file system refuses is an error naming the option, the path and why.</summary>
    private static async Task WriteAsync(string option, string path, Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            var what = option == "--charts" ? "the charts directory" : "the file";
            throw new UsageException($"option '{option}': cannot write {what} {path}: {e.Message}");
        }
    }

    // The report's tables, one column a line, each fitted to the console (see FittedTable): rank 0 is always shown,
    // a higher rank is dropped sooner on a narrow console.

    /// <summary>What was done and at what price.</summary>
    private static readonly FitColumn<ReportRow>[] OrderColumns =
    [
        new("id", FitColumn<ReportRow>.Kept, r => Display.Count(r.Id)),
        new("symbol", 1, r => r.Symbol),
        new("side", FitColumn<ReportRow>.Kept, r => r.Side),
        new("strategy", 6, r => r.Strategy.Length == 0 ? Display.Missing : r.Strategy),
        new("status", FitColumn<ReportRow>.Kept, r => r.Status),
        new("target", 5, r => $"{Display.Number(r.Size)} {Unit(r)}"),
        new("filled", FitColumn<ReportRow>.Kept, r => r.SizeType == "n" ? $"{Display.Number(r.FilledNotional)} USDT" : $"{Display.Number(r.FilledQty)} {Unit(r)}"),
        new("avg price", "avg", 2, r => Display.Number(r.AvgPrice)),
        new("arrival mid", "mid", 7, r => Display.Number(r.ArrivalMid)),
        new("slip bp", 3, r => Display.Bps(r.SlippageBps)),
        new("IS bp", 4, r => Display.Bps(r.ImplementationShortfallBps)),
        new("vs exp bp", "exp bp", 8, r => Display.Bps(r.SlippageVsExpectedBps)),
        new("vs VWAP bp", "VWAP bp", 9, r => Display.Bps(r.SlippageVsVwapBps)),
        new("started", 10, r => Display.Time(r.StartedAt)),
        new("duration", "dur", 11, r => Display.Seconds(r.DurationSeconds)),
        new("1st fill", 12, r => Display.Seconds(r.TimeToFirstFillSeconds)),
    ];

    /// <summary>How it was done: spread earned, maker share, fees, order traffic, latency, adverse selection.</summary>
    private static readonly FitColumn<ReportRow>[] QualityColumns =
    [
        new("id", FitColumn<ReportRow>.Kept, r => Display.Count(r.Id)),
        new("½-spread earned", "½-spread", 1, r => Display.Ratio(r.HalfSpreadCaptured)),
        new("maker", 2, r => Display.Percent(r.MakerFraction)),
        new("fees USDT", "fees", 3, r => Display.Fee(r.Fees)),
        new("children", "child", 6, r => Display.Count(r.ChildOrders)),
        new("modifies", "mod", 7, r => Display.Count(r.Modifies)),
        new("cancels", "cxl", 8, r => Display.Count(r.Cancels)),
        new("GTX rejects", "GTX rej", 9, r => Display.Count(r.PostOnlyRejects)),
        new("order budget 10s", "budget", 10, r => Display.Percent(r.OrderBudgetPeak10s)),
        new("tick→order p50 / p99 µs", "p50/p99 µs", 5, r => r.TickToOrderP50Us is { } p50 ? string.Create(CultureInfo.InvariantCulture, $"{p50:0} / {r.TickToOrderP99Us:0}") : Display.Missing),
        new("hop p50 / p99 µs", "hop µs", 11, r => r.HopP50Us is { } p50 ? string.Create(CultureInfo.InvariantCulture, $"{p50:0} / {r.HopP99Us:0}") : Display.Missing),
        new("markout 1s / 10s / 60s bp", "mk 1/10/60s bp", 4, r => $"{Display.Bps(r.Markout1sBps)} / {Display.Bps(r.Markout10sBps)} / {Display.Bps(r.Markout60sBps)}"),
    ];

    private static readonly FitColumn<AggregateRow>[] AggregateColumns =
    [
        new("symbol", FitColumn<AggregateRow>.Kept, a => a.Symbol),
        new("side", FitColumn<AggregateRow>.Kept, a => a.Side),
        new("strategy", 2, a => a.Strategy.Length == 0 ? Display.Missing : a.Strategy),
        new("orders", 1, a => Display.Count(a.Orders)),
        new("filled USDT", FitColumn<AggregateRow>.Kept, a => Display.Number(a.FilledNotional)),
        new("fees USDT", "fees", 4, a => Display.Fee(a.Fees)),
        new("slip bp", 3, a => Display.Bps(a.SlippageBps)),
        new("IS bp", 4, a => Display.Bps(a.ImplementationShortfallBps)),
        new("vs exp bp", "exp bp", 5, a => Display.Bps(a.SlippageVsExpectedBps)),
        new("½-spread", 6, a => Display.Ratio(a.HalfSpreadCaptured)),
        new("maker", 7, a => Display.Percent(a.MakerFraction)),
        new("markout 1s bp", "mk 1s bp", 8, a => Display.Bps(a.Markout1sBps)),
    ];

    private static string Unit(ReportRow r) => r.SizeType == "n" ? "USDT" : SymbolAssets.BaseAsset(r.Symbol);

    private static long[] IdsFrom(string text)
    {
        var ids = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                throw new UsageException($"option '--ids': '{part}' is not an order id; use --ids 1,2,3");
            }

            ids.Add(id);
        }

        return [.. ids];
    }

    private static DateTimeOffset? SinceFrom(string? text, DateTimeOffset now)
    {
        if (text is null)
        {
            return null;
        }

        if (DurationText.TryParse(text, out var back) && back > TimeSpan.Zero)
        {
            return now - back;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        throw new UsageException($"option '--since': '{text}' is neither an ISO 8601 time (2026-11-30T09:00Z) nor a duration (90m, 2h, 7d)");
    }
}
