using Chaser.Simulator;

namespace Chaser.Cli;

/// <summary>What a command runs with: its streams, the environment, the clock and the stop signal (Ctrl-C).</summary>
internal sealed record CommandContext(
    TextWriter Output,
    TextWriter Error,
    bool Interactive,
    Func<string, string?> Environment,
    TimeProvider Time,
    CancellationToken Stop)
{
    public OutputOptions OutputFor(bool json) => new(Output, Error, json, Interactive);

    /// <summary>Connection diagnostics (reconnects, unexpected answers) go to stderr; they never carry a secret.</summary>
    public void Diagnostic(string message)
    {
        lock (Error)
        {
            Error.WriteLine("chaser: " + message);
        }
    }
}

/// <summary>Entry point of the <c>chaser</c> tool: dispatches to a command and maps errors to exit codes.</summary>
internal static class CommandLine
{
    public const string Usage = """
        usage: chaser <command> [options]        (chaser <command> --help for its options)

          demo       start the simulator and work three parent orders on it, then print the post-trade table
          execute    work one parent order (buy/sell a notional or a quantity) on sim, testnet or live
          backtest   replay recorded Binance data through the chaser and the simulator's matching engine
          sim        run the Binance USDⓈ-M Futures simulator on loopback
          report     post-trade metrics of recorded orders: table, CSV, Parquet, JSON, PNG charts
          serve      the HTTP API (orders, execute, fills, mids, report) over the database and a venue
          db         db migrate: apply the database schema (SQLite chaser.db by default, or --db / CHASER_DB)
        """;

    public static async Task<int> RunAsync(string[] args, CommandContext context)
    {
        var command = args.Length == 0 ? "help" : args[0];
        var rest = args.Skip(1).ToArray();
        if (rest.Any(a => a is "--help" or "-h"))
        {
            await context.Output.WriteLineAsync(UsageOf(command) ?? Usage).ConfigureAwait(false);
            return 0;
        }

        try
        {
            return command switch
            {
                "demo" => await DemoCommand.RunAsync(rest, context).ConfigureAwait(false),
                "execute" => await ExecuteCommand.RunAsync(rest, context).ConfigureAwait(false),
                "backtest" => await BacktestCommand.RunAsync(rest, context).ConfigureAwait(false),
                "db" => await DatabaseCommand.RunAsync(rest, context).ConfigureAwait(false),
                "report" => await ReportCommand.RunAsync(rest, context).ConfigureAwait(false),
                "serve" => await ServeCommand.RunAsync(rest, context).ConfigureAwait(false),
                "sim" => await SimulatorCommand.RunAsync(rest, context.Output, context.Stop).ConfigureAwait(false),
                "help" or "--help" or "-h" => await Help(context).ConfigureAwait(false),
                _ => throw new UsageException($"unknown command '{command}' (try 'chaser help')"),
            };
        }
        catch (UsageException ex)
        {
            await context.Error.WriteLineAsync($"chaser {command}: {ex.Message}").ConfigureAwait(false);
            return OrderSession.ExitUsage;
        }
        catch (ArgumentException ex)
        {
            // A domain object refused a value (ParentOrderSpec, exchange rules): its message names the field.
            await context.Error.WriteLineAsync($"chaser {command}: {ex.Message}").ConfigureAwait(false);
            return OrderSession.ExitUsage;
        }
        catch (OperationCanceledException) when (context.Stop.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync($"chaser {command}: stopped").ConfigureAwait(false);
            return OrderSession.ExitNotFilled;
        }
        catch (HttpRequestException ex)
        {
            await context.Error.WriteLineAsync($"chaser {command}: cannot reach the venue: {ex.Message}").ConfigureAwait(false);
            return OrderSession.ExitFailed;
        }
    }

    private static string? UsageOf(string command) => command switch
    {
        "demo" => DemoCommand.Usage,
        "execute" => ExecuteCommand.Usage,
        "backtest" => BacktestCommand.Usage,
        "db" => DatabaseCommand.Usage,
        "report" => ReportCommand.Usage,
        "serve" => ServeCommand.Usage,
        "sim" => SimulatorCommand.Usage,
        _ => null,
    };

    private static async Task<int> Help(CommandContext context)
    {
        await context.Output.WriteLineAsync(Usage).ConfigureAwait(false);
        return 0;
    }
}
