using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Data.Common;
using System.Globalization;
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
    /// <summary>A command that runs: its one definition (options, descriptions, defaults), what its help adds, and its work.</summary>
    private sealed record Entry(Command Definition, string Notes, Func<ParseResult, CommandContext, Task<int>> RunAsync);

    private static readonly Entry[] Entries =
    [
        new(DemoCommand.Definition, DemoCommand.Notes, DemoCommand.RunAsync),
        new(ExecuteCommand.Definition, ExecuteCommand.Notes, ExecuteCommand.RunAsync),
        new(BacktestCommand.Definition, BacktestCommand.Notes, BacktestCommand.RunAsync),
        new(CompareCommand.Definition, CompareCommand.Notes, CompareCommand.RunAsync),
        new(SimCommand.Definition, SimCommand.Notes, SimCommand.RunAsync),
        new(ReportCommand.Definition, ReportCommand.Notes, ReportCommand.RunAsync),
        new(ReplayCommand.Definition, ReplayCommand.Notes, ReplayCommand.RunAsync),
        new(ServeCommand.Definition, ServeCommand.Notes, ServeCommand.RunAsync),
        new(DatabaseCommand.Migrate, DatabaseCommand.Notes, DatabaseCommand.RunAsync),
    ];

    /// <summary>The whole command line: every command, every option. The help and the parser both read this.</summary>
    public static readonly Command Definition = Define();

    /// <summary>
    /// Only what the definition says: no response files (<c>@file</c> stays text), no bundling of short options, so a
    /// value is never reinterpreted.
    /// </summary>
    private static readonly ParserConfiguration Configuration = new() { EnablePosixBundling = false, ResponseFileTokenReplacer = null };

    private static Command Define()
    {
        var root = new Command("chaser", "works parent orders on Binance USDⓈ-M Futures with one post-only order at the best price")
        {
            new HelpOption("--help", "-h") { Description = "print the help of the command (or this list) and exit" },
            DemoCommand.Definition,
            ExecuteCommand.Definition,
            BacktestCommand.Definition,
            CompareCommand.Definition,
            SimCommand.Definition,
            ReportCommand.Definition,
            ReplayCommand.Definition,
            ServeCommand.Definition,
            DatabaseCommand.Definition,
        };
        return root;
    }

    /// <summary>The commands that run (<c>db migrate</c>, not <c>db</c>), each with its path from the root.</summary>
    public static IEnumerable<(string[] Path, Command Command)> Runnable =>
        Entries.Select(e => (PathOf(e.Definition).Skip(1).ToArray(), e.Definition));

    /// <summary>Every option <paramref name="command"/> accepts: its own and those its parents pass down (<c>--help</c>).</summary>
    public static IEnumerable<Option> Accepted(Command command) =>
        command.Options.Concat(Ancestors(command).SelectMany(a => a.Options.Where(o => o.Recursive)));

    /// <summary>The command's help: generated from its definition, fitted to 80 columns.</summary>
    public static string HelpOf(Command command)
    {
        if (command == Definition)
        {
            return HelpText.ForCommands(Definition);
        }

        string NotesOf(Command c) => Entries.FirstOrDefault(e => e.Definition == c)?.Notes ?? "";
        return command.Subcommands.Count > 0 ? HelpText.ForGroup(command, NotesOf) : HelpText.ForCommand(command, NotesOf(command));
    }

    /// <summary>
    /// Parses <paramref name="args"/> (without the program's name) against the definition; any problem is one
    /// <see cref="UsageException"/> naming the option and the reason, never System.CommandLine's own multi-line report.
    /// </summary>
    public static ParseResult Parse(IReadOnlyList<string> args) => Parse(Definition, args);

    /// <summary>As <see cref="Parse(IReadOnlyList{string})"/>, against any command (tests parse one option group alone).</summary>
    public static ParseResult Parse(Command command, IReadOnlyList<string> args)
    {
        var result = command.Parse(args, Configuration);
        if (result.Action is HelpAction)
        {
            return result;
        }

        if (FirstProblem(result) is { } problem)
        {
            throw new UsageException(problem);
        }

        return result;
    }

    /// <summary>The first problem in the order the user typed them; missing options after everything typed.</summary>
    private static string? FirstProblem(ParseResult result)
    {
        var tokens = result.Tokens;
        var problems = new List<(int Position, string Message)>();
        for (var i = 0; i < tokens.Count; i++)
        {
            // No directives ("[diagram]") and no "--" (it ends options only where positional arguments exist).
            if (tokens[i].Type is TokenType.Directive or TokenType.DoubleDash)
            {
                problems.Add((i, $"unexpected argument '{tokens[i].Value}'"));
            }
        }

        var searchFrom = 0;
        foreach (var unmatched in result.UnmatchedTokens)
        {
            var position = IndexOf(tokens, t => t.Type == TokenType.Argument && t.Value == unmatched, searchFrom);
            searchFrom = position + 1;
            var before = position > 0 ? tokens[position - 1] : null;
            var flag = before is { Type: TokenType.Option } ? Accepted(result.CommandResult.Command).FirstOrDefault(o => o.Name == before.Value || o.Aliases.Contains(before.Value)) : null;
            problems.Add((position, flag is { Arity.MaximumNumberOfValues: 0 }
                ? $"option '{flag.Name}' takes no value, got '{unmatched}'"
                : unmatched.StartsWith('-') ? $"unknown option '{OptionName(unmatched)}'" : $"unexpected argument '{unmatched}'"));
        }

        foreach (var error in result.Errors)
        {
            switch (error.SymbolResult)
            {
                case OptionResult option:
                    var name = option.Option.Name;
                    var message = option.IdentifierTokenCount > 1 ? $"option '{name}' is given twice"
                        : option.IdentifierTokenCount == 0 ? $"option '{name}' is required"
                        : option.Tokens.Count == 0 && option.Option.Arity.MinimumNumberOfValues > 0 ? $"option '{name}' needs a value"
                        : error.Message.StartsWith("option", StringComparison.Ordinal) ? error.Message
                        : $"option '{name}': {error.Message}";
                    var at = option.IdentifierToken is { } identifier ? IndexOf(tokens, t => t == identifier, 0) : -1;
                    problems.Add((at < 0 ? int.MaxValue : at, message));
                    break;
                case CommandResult { Command.Subcommands.Count: > 0 } command when !result.UnmatchedTokens.Any():
                    // "chaser db": a group without its command.
                    problems.Add((int.MaxValue, $"expected '{string.Join(' ', PathOf(command.Command))} {string.Join('|', command.Command.Subcommands.Select(c => c.Name))}'"));
                    break;
                case ArgumentResult argument:
                    problems.Add((int.MaxValue, $"argument '{argument.Argument.Name}': {error.Message}"));
                    break;
                default:
                    break;
            }
        }

        if (problems.Count == 0 && result.Errors.Count > 0)
        {
            // Nothing above recognised it: still one line, in the parser's words.
            return result.Errors[0].Message;
        }

        return problems.Count == 0 ? null : problems.OrderBy(p => p.Position).First().Message;
    }

    private static int IndexOf(IReadOnlyList<Token> tokens, Func<Token, bool> match, int from)
    {
        for (var i = Math.Max(from, 0); i < tokens.Count; i++)
        {
            if (match(tokens[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>"--notionl=100" names the option "--notionl".</summary>
    private static string OptionName(string token)
    {
        var equals = token.IndexOf('=', StringComparison.Ordinal);
        return token.StartsWith("--", StringComparison.Ordinal) && equals > 0 ? token[..equals] : token;
    }

    private static IEnumerable<Command> Ancestors(Command command)
    {
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            yield return parent;
        }
    }

    /// <summary>"chaser db migrate".</summary>
    public static string[] PathOf(Command command) => [.. Ancestors(command).Reverse().Select(c => c.Name), command.Name];

    public static async Task<int> RunAsync(string[] args, CommandContext context)
    {
        var command = args.Length == 0 ? "help" : args[0];
        var rest = args.Skip(1).ToArray();
        try
        {
            if (command is "help" or "--help" or "-h")
            {
                // "chaser help execute" is "chaser execute --help".
                if (command == "help" && rest.Length > 0 && !Definition.Subcommands.Any(c => c.Name == rest[0]))
                {
                    throw new UsageException($"unknown command '{rest[0]}' (try 'chaser help')");
                }

                var topic = command == "help" && rest.Length > 0 ? Parse([.. rest, "--help"]).CommandResult.Command : Definition;
                await context.Output.WriteLineAsync(HelpOf(topic)).ConfigureAwait(false);
                return 0;
            }

            // The first word names a command; anything else ("--bogus", "chaser") is not one.
            if (!Definition.Subcommands.Any(c => c.Name == command))
            {
                throw new UsageException($"unknown command '{command}' (try 'chaser help')");
            }

            var parsed = Parse(args);
            if (parsed.Action is HelpAction)
            {
                await context.Output.WriteLineAsync(HelpOf(parsed.CommandResult.Command)).ConfigureAwait(false);
                return 0;
            }

            var entry = Entries.First(e => e.Definition == parsed.CommandResult.Command);
            return await entry.RunAsync(parsed, context).ConfigureAwait(false);
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
}
