using System.Data.Common;
using System.Globalization;
using Chaser.Simulator;
using Chaser.Simulator.Sources;
using Microsoft.EntityFrameworkCore;

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
    public OutputOptions OutputFor(bool json) => new(Output, Error, json, Interactive) { Columns = Columns };

    /// <summary>The width redirected output is laid out for: <c>COLUMNS</c> when set, else none (full width).</summary>
    public int? Columns => ResultTable.ColumnsFrom(Environment);

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
          execute    work one parent order (buy/sell a notional or a quantity) on sim, demo, testnet or live
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
            await context.Output.WriteLineAsync(HelpText.Wrap(UsageOf(command) ?? Usage)).ConfigureAwait(false);
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
                "sim" => await SimulatorCommand.RunAsync(rest, context.Output, context.Error, context.Stop).ConfigureAwait(false),
                "help" or "--help" or "-h" => await Help(context).ConfigureAwait(false),
                _ => throw new UsageException($"unknown command '{command}' (try 'chaser help')"),
            };
        }
        catch (UsageException ex)
        {
            return await RefuseAsync(context, command, ex.Message).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            // A domain object refused a value (ParentOrderSpec, exchange rules): its message names the field.
            return await RefuseAsync(context, command, ex.Message).ConfigureAwait(false);
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
        catch (RecordedDataException ex)
        {
            // A replayed file the command did not attribute to its option: the message names the file, line and column.
            return await RefuseAsync(context, command, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseFailure(ex) is { } failure)
        {
            // Locked, read-only, damaged or unreachable: the database the command was given, named without its password.
            var database = Recording.Describe(Recording.ConnectionString(rest, context.Environment));
            return await RefuseAsync(context, command, $"option '--db': {database}: {failure.Message}").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file or socket the environment refused; the message names the path or address.
            return await RefuseAsync(context, command, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // A bug, not bad input: one line for the trader, the whole trace in the log for us.
            var log = Log(context, command, ex.ToString());
            await context.Error.WriteLineAsync($"chaser {command}: internal error: {ex.GetType().Name}: {ex.Message}{(log is null ? "" : $" (details in {log})")}").ConfigureAwait(false);
            return OrderSession.ExitFailed;
        }
    }

    /// <summary>Where failures are logged: <c>CHASER_LOG</c>, else <c>chaser.log</c> in the temp directory's <c>chaser</c> folder.</summary>
    public const string LogVariable = "CHASER_LOG";

    /// <summary>Bad input or a refusing environment: one line naming the input and the reason, logged, exit code 2.</summary>
    private static async Task<int> RefuseAsync(CommandContext context, string command, string message)
    {
        var line = $"chaser {command}: {message.ReplaceLineEndings(" ")}";
        await context.Error.WriteLineAsync(line).ConfigureAwait(false);
        Log(context, command, message);
        return OrderSession.ExitUsage;
    }

    /// <summary>The innermost database error behind <paramref name="error"/> (EF wraps the provider's), if that is what it is.</summary>
    private static Exception? DatabaseFailure(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            // The recorder's last writes not reaching it in time (it went away mid-run) is a database failure too.
            if (e is DbException or Chaser.Storage.StorageUnreachableException)
            {
                return e;
            }
        }

        return error is DbUpdateException ? error : null;
    }

    /// <summary>Appends to the log; a log that can't be written never hides the error itself. Returns the log's path.</summary>
    private static string? Log(CommandContext context, string command, string text)
    {
        try
        {
            var path = context.Environment(LogVariable) is { Length: > 0 } chosen ? chosen : Path.Combine(Path.GetTempPath(), "chaser", "chaser.log");
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
            {
                Directory.CreateDirectory(directory);
            }

            File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture, $"{context.Time.GetUtcNow():yyyy-MM-dd'T'HH:mm:ss.fff'Z'} chaser {command}: {text}{Environment.NewLine}"));
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
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
        await context.Output.WriteLineAsync(HelpText.Wrap(Usage)).ConfigureAwait(false);
        return 0;
    }
}
