using System.Globalization;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Engine;
using Spectre.Console;

namespace Chaser.Cli;

/// <summary>How a command's output should look.</summary>
internal sealed record OutputOptions(TextWriter Output, TextWriter Error, bool Json, bool Interactive)
{
    /// <summary>Progress goes to stderr under <c>--json</c> so that stdout is exactly the JSON document.</summary>
    public TextWriter ProgressWriter => Json ? Error : Output;
}

/// <summary>
/// Checks parent orders against the venue, works them concurrently with a progress display, and reports. Shared by
/// <c>execute</c> and <c>demo</c>.
/// </summary>
internal static class OrderSession
{
    public const int ExitFilled = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;
    public const int ExitNotFilled = 3;

    private static readonly TimeSpan BookTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Throws <see cref="UsageException"/> naming the field when an order can't be worked; sends nothing.</summary>
    public static async Task CheckAsync(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, CancellationToken cancellationToken)
    {
        foreach (var spec in specs)
        {
            var problem = await engine.ValidateAsync(spec, 0m, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                throw new UsageException(problem);
            }

            var book = await engine.WaitForBookAsync(spec.Symbol, BookTimeout, cancellationToken).ConfigureAwait(false)
                ?? throw new UsageException($"symbol: no market data for {spec.Symbol} within {BookTimeout.TotalSeconds:0} s");
            // Checked at the price the child will rest at: on the tick grid, as the exchange will see it.
            var restingPrice = spec.Side == Side.Buy ? book.Bid : book.Ask;
            problem = await engine.ValidateAsync(spec, restingPrice, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                throw new UsageException(problem);
            }
        }
    }

    /// <summary>Works the orders to their end; Ctrl-C (the token) cancels them gracefully. Returns the results in input order.</summary>
    public static async Task<ExecutionResult[]> WorkAsync(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, OutputOptions output, CancellationToken stop)
    {
        // The orders themselves get no token: a stop is a user cancel, which cancels each live child and waits for
        // its final state, so that no order is left resting and every fill is counted.
        using var onStop = stop.Register(() =>
        {
            foreach (var spec in specs)
            {
                engine.Cancel(spec.Id);
            }
        });
        var run = engine.ExecuteAllAsync(specs, CancellationToken.None);
        if (output.Interactive && !output.Json)
        {
            await ShowLiveAsync(engine, specs, run, output.Output).ConfigureAwait(false);
        }
        else
        {
            await ShowLinesAsync(engine, specs, run, output.ProgressWriter).ConfigureAwait(false);
        }

        return await run.ConfigureAwait(false);
    }

    /// <summary>
    /// With <c>--markouts</c>: keeps the process (and so the engine's sampling of the book) alive for the markout tail
    /// after the orders ended, so that the report's +1/+10/+60 s markouts have data. Ctrl-C ends the wait early.
    /// </summary>
    public static async Task WaitForMarkoutsAsync(bool wanted, TimeSpan tail, OutputOptions output, TimeProvider time, CancellationToken stop)
    {
        if (!wanted || stop.IsCancellationRequested)
        {
            return;
        }

        await output.ProgressWriter.WriteLineAsync($"sampling the book for {tail.TotalSeconds:0} s more for markouts (Ctrl-C ends it early)").ConfigureAwait(false);
        try
        {
            await Task.Delay(tail, time, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The user cut it short: the markouts get what was sampled until now.
        }
    }

    public static int Report(IReadOnlyList<ExecutionResult> results, OutputOptions output)
    {
        if (output.Json)
        {
            output.Output.WriteLine(ResultJson.Write(results));
        }
        else
        {
            var console = ResultTable.ConsoleFor(output.Output, output.Interactive);
            console.Write(ResultTable.Render(results, console.Profile.Width));
            foreach (var result in results.Where(r => r.Detail is not null && r.Status != FinishReason.Filled))
            {
                output.Output.WriteLine($"order {result.Spec.Id}: {ResultJson.StatusName(result.Status)}: {result.Detail}");
            }
        }

        return ExitCode(results);
    }

    public static int ExitCode(IReadOnlyList<ExecutionResult> results) =>
        results.Any(r => r.Status == FinishReason.Failed) ? ExitFailed
        : results.All(r => r.Status == FinishReason.Filled) ? ExitFilled
        : ExitNotFilled;

    public static string ProgressLine(ParentOrderSpec spec, ExecutionProgress? progress)
    {
        var side = spec.Side == Side.Buy ? "buy" : "sell";
        if (progress is null)
        {
            return $"#{spec.Id} {spec.Symbol} {side}: waiting";
        }

        var (done, unit) = spec.SizeType == SizeType.Notional ? (progress.FilledNotional, "USDT") : (progress.FilledQuantity, "");
        var percent = spec.Size == 0 ? 0 : done / spec.Size * 100m;
        var resting = progress.RestingPrice is { } price ? price.ToString(CultureInfo.InvariantCulture) : "-";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"#{spec.Id} {spec.Symbol} {side}: {done:0.########}/{spec.Size:0.########}{(unit.Length > 0 ? " " + unit : "")} ({percent:0.0}%) resting {resting} best {progress.BestPrice} fills {progress.Fills}");
    }

    private static async Task ShowLinesAsync(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, Task run, TextWriter writer)
    {
        var last = new Dictionary<long, string>();
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            var progress = engine.Progress;
            foreach (var spec in specs)
            {
                if (!progress.TryGetValue(spec.Id, out var current))
                {
                    continue;
                }

                var line = ProgressLine(spec, current);
                if (!last.TryGetValue(spec.Id, out var previous) || previous != line)
                {
                    last[spec.Id] = line;
                    await writer.WriteLineAsync(line).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task ShowLiveAsync(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, Task run, TextWriter writer)
    {
        var console = ResultTable.ConsoleFor(writer, interactive: true);
        var seen = new Dictionary<long, ExecutionProgress>();
        var table = ProgressTable(engine, specs, seen);
        await console.Live(table).StartAsync(async context =>
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(250))).ConfigureAwait(false);
                context.UpdateTarget(ProgressTable(engine, specs, seen));
            }
        }).ConfigureAwait(false);
    }

    private static Table ProgressTable(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, Dictionary<long, ExecutionProgress> seen)
    {
        var table = new Table().Border(TableBorder.Simple).Title("working");
        table.AddColumn("order");
        table.AddColumn("progress");
        foreach (var (id, current) in engine.Progress)
        {
            seen[id] = current;
        }

        foreach (var spec in specs)
        {
            table.AddRow(
                Markup.Escape($"#{spec.Id} {spec.Symbol}"),
                Markup.Escape(ProgressLine(spec, seen.GetValueOrDefault(spec.Id))[($"#{spec.Id} {spec.Symbol} ").Length..]));
        }

        return table;
    }
}
