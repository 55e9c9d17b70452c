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

        var console = ResultTable.ConsoleFor(context.Output, context.Interactive);
        if (report.Orders.Count == 0)
        {
            console.WriteLine($"no orders in {Recording.Describe(database)} match");
            return 0;
        }

        console.Write(OrdersTable(report.Orders));
        foreach (var r in report.Orders.Where(r => r.Status != "filled" && !string.IsNullOrEmpty(r.StatusDetail)))
        {
            // The reason an order did not fill is part of its record, not only of a log.
            console.WriteLine($"#{r.Id} {r.Status}: {r.StatusDetail}");
        }

        console.Write(QualityTable(report.Orders));
        console.Write(AggregateTable(report.Aggregates));
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

    /// <summary>What was done and at what price (a terminal is too narrow for every column in one table).</summary>
    private static Table OrdersTable(IReadOnlyList<ReportRow> rows)
    {
        var table = Columns(["id", "symbol", "side", "strategy", "status", "target", "filled", "avg price", "arrival mid", "slip bp", "vs exp bp", "vs VWAP bp", "duration", "1st fill"]);
        foreach (var r in rows)
        {
            var unit = r.SizeType == "n" ? "USDT" : ResultTable.BaseAsset(r.Symbol);
            table.AddRow(
                Text(r.Id), r.Symbol, r.Side, Markup.Escape(r.Strategy), r.Status,
                $"{Number(r.Size)} {unit}",
                r.SizeType == "n" ? $"{Number(r.FilledNotional)} USDT" : $"{Number(r.FilledQty)} {unit}",
                Number(r.AvgPrice), Number(r.ArrivalMid), Bps(r.SlippageBps), Bps(r.SlippageVsExpectedBps), Bps(r.SlippageVsVwapBps),
                Seconds(r.DurationSeconds), r.TimeToFirstFillSeconds is { } f ? Seconds(f) : "-");
        }

        table.Caption("slippage vs the arrival mid, price_expected and the market's VWAP over the order's life: bp, positive = cost");
        return table;
    }

    /// <summary>How it was done: spread earned, maker share, fees, order traffic, latency, adverse selection.</summary>
    private static Table QualityTable(IReadOnlyList<ReportRow> rows)
    {
        var table = Columns(["id", "½-spread earned", "maker", "fees USDT", "children", "modifies", "cancels", "GTX rejects", "order budget 10s", "tick→order p50 / p99", "markout 1s / 10s / 60s bp"]);
        foreach (var r in rows)
        {
            table.AddRow(
                Text(r.Id), Ratio(r.HalfSpreadCaptured), Percent(r.MakerFraction), Number(r.Fees), Text(r.ChildOrders), Text(r.Modifies), Text(r.Cancels),
                Text(r.PostOnlyRejects), Percent(r.OrderBudgetPeak10s),
                r.TickToOrderP50Us is { } p50 ? $"{p50:0} / {r.TickToOrderP99Us:0} µs" : "-",
                $"{Bps(r.Markout1sBps)} / {Bps(r.Markout10sBps)} / {Bps(r.Markout60sBps)}");
        }

        table.Caption("½-spread earned: 1 = every fill at our touch, 0 = at the mid; markouts: mid move against us after each fill, size-weighted");
        return table;
    }

    private static Table Columns(string[] names)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var name in names)
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        return table;
    }

    private static Table AggregateTable(IReadOnlyList<AggregateRow> rows)
    {
        var table = Columns(["symbol", "side", "strategy", "orders", "filled USDT", "fees", "slip bp", "vs exp bp", "½-spread", "maker", "markout 1s bp"])
            .Title("by symbol, side and strategy (weighted by filled notional)");
        foreach (var a in rows)
        {
            table.AddRow(a.Symbol, a.Side, Markup.Escape(a.Strategy), Text(a.Orders), Number(a.FilledNotional), Number(a.Fees), Bps(a.SlippageBps),
                Bps(a.SlippageVsExpectedBps), Ratio(a.HalfSpreadCaptured), Percent(a.MakerFraction), Bps(a.Markout1sBps));
        }

        return table;
    }

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

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(decimal? value) => value?.ToString("#,0.########", CultureInfo.InvariantCulture) ?? "-";

    private static string Bps(decimal? value) => value?.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) ?? "-";

    private static string Ratio(decimal? value) => value?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-";

    private static string Percent(decimal? value) => value is { } v ? (v * 100m).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Seconds(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " s";

}
