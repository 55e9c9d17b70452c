using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Engine;
using Spectre.Console;

namespace Chaser.Cli;

/// <summary>How a command's output should look.</summary>
internal sealed record OutputOptions(TextWriter Output, TextWriter Error, bool Json, bool Interactive)
{
    /// <summary>Progress goes to stderr under <c>--json</c> so that stdout is exactly the JSON document.</summary>
    public TextWriter ProgressWriter => Json ? Error : Output;

    /// <summary>The width redirected output is laid out for (<c>COLUMNS</c>); none = full width. A terminal gives its own.</summary>
    public int? Columns { get; init; }

    /// <summary>A line of prose to stdout, wrapped at spaces to <see cref="Columns"/> when set (a terminal wraps its own).</summary>
    public Task SayAsync(string text) => Output.WriteLineAsync(Columns is { } width ? HelpText.Wrap(text, width) : text);
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

        // One task per order (what ExecuteAllAsync does), so that the display shows each order's result as it ends.
        var orders = specs.Select(spec => engine.ExecuteAsync(spec, CancellationToken.None)).ToArray();
        var run = Task.WhenAll(orders);
        if (output.Interactive && !output.Json)
        {
            await ShowLiveAsync(engine, specs, orders, run, output.Output).ConfigureAwait(false);
        }
        else
        {
            await ShowLinesAsync(engine, specs, orders, run, output.ProgressWriter, output.Columns ?? int.MaxValue).ConfigureAwait(false);
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

        var line = $"sampling the book for {tail.TotalSeconds:0} s more for markouts (Ctrl-C ends it early)";
        await output.ProgressWriter.WriteLineAsync(output.Columns is { } width ? HelpText.Wrap(line, width) : line).ConfigureAwait(false);
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
            var console = ResultTable.ConsoleFor(output.Output, output.Interactive, output.Columns);
            console.Write(ResultTable.Render(results, console.Profile.Width, console.Profile.Capabilities.Unicode));
            if (ResultTable.WorstLatencies(results) is { } latencies)
            {
                // The table drops its latency columns on a narrow console; both figures are always said here.
                console.Write(new Text(console.Profile.Capabilities.Unicode ? latencies : FittedTable.Plain(latencies)));
                console.WriteLine();
            }

            foreach (var result in results.Where(r => r.Detail is not null && r.Status != FinishReason.Filled))
            {
                // Through the console: a long reason wraps at words within the width, as the table fits it.
                console.Write(new Text($"order {result.Spec.Id}: {ResultJson.StatusName(result.Status)}: {result.Detail}"));
                console.WriteLine();
            }
        }

        return ExitCode(results);
    }

    public static int ExitCode(IReadOnlyList<ExecutionResult> results) =>
        results.Any(r => r.Status == FinishReason.Failed) ? ExitFailed
        : results.All(r => r.Status == FinishReason.Filled) ? ExitFilled
        : ExitNotFilled;

    /// <summary>Each order as it stands: its result once it ended, else the engine's progress (kept once seen), else waiting.</summary>
    private static ProgressRow[] Rows(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, IReadOnlyList<Task<ExecutionResult>> orders, Dictionary<long, ExecutionProgress> seen)
    {
        foreach (var (id, current) in engine.Progress)
        {
            seen[id] = current;
        }

        return specs.Select((spec, index) => ProgressRow.Of(
            spec,
            seen.GetValueOrDefault(spec.Id),
            orders[index].IsCompletedSuccessfully ? orders[index].Result : null)).ToArray();
    }

    private static async Task ShowLinesAsync(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, IReadOnlyList<Task<ExecutionResult>> orders, Task run, TextWriter writer, int width)
    {
        var last = new Dictionary<long, string>();
        var seen = new Dictionary<long, ExecutionProgress>();
        var finished = false;
        while (!finished)
        {
            // Read before the rows are drawn, so that the rows drawn after the run completed are the final ones.
            finished = run.IsCompleted;
            if (!finished)
            {
                await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
                finished = run.IsCompleted;
            }

            foreach (var row in Rows(engine, specs, orders, seen))
            {
                if (row.State == "waiting")
                {
                    continue;
                }

                var line = row.Line(width);
                if (!last.TryGetValue(row.Spec.Id, out var previous) || previous != line)
                {
                    last[row.Spec.Id] = line;
                    await writer.WriteLineAsync(line).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task ShowLiveAsync(ExecutionEngine engine, IReadOnlyList<ParentOrderSpec> specs, IReadOnlyList<Task<ExecutionResult>> orders, Task run, TextWriter writer)
    {
        var console = ResultTable.ConsoleFor(writer, interactive: true, columns: null);
        var seen = new Dictionary<long, ExecutionProgress>();
        await console.Live(ProgressView.Render(Rows(engine, specs, orders, seen), console.Profile.Width, finished: false)).StartAsync(async context =>
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(250))).ConfigureAwait(false);
                context.UpdateTarget(ProgressView.Render(Rows(engine, specs, orders, seen), console.Profile.Width, run.IsCompleted));
            }

            // The last frame is the final state, from the results: drawn even if the run ended before the first wait.
            context.UpdateTarget(ProgressView.Render(Rows(engine, specs, orders, seen), console.Profile.Width, finished: true));
            context.Refresh();
        }).ConfigureAwait(false);
    }
}
