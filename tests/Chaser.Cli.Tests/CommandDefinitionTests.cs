using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;

namespace Chaser.Cli.Tests;

/// <summary>
/// The one definition of the command line: each command's --help lists every option the definition gives it (with its
/// description and default), and parsing accepts those options only, each problem one line naming the option.
/// </summary>
public partial class CommandDefinitionTests
{
    public static TheoryData<string> Commands => [.. CommandLine.Runnable.Select(c => string.Join(' ', c.Path))];

    private static Command CommandAt(string path) => CommandLine.Runnable.Single(c => string.Join(' ', c.Path) == path).Command;

    private static string[] PathOf(string path) => path.Split(' ');

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_lists_every_option_of_the_definition_with_its_description_and_default(string path)
    {
        var command = CommandAt(path);
        var outcome = await CliRunner.RunAsync(null, [.. PathOf(path), "--help"]);

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("", outcome.Error);
        // Wrapping breaks lines anywhere between words: compare with the whitespace folded.
        var help = Folded(outcome.Output);
        var options = CommandLine.Accepted(command).ToList();
        Assert.Contains(options, o => o is HelpOption);
        foreach (var option in options)
        {
            var label = option is HelpOption ? "-h, --help" : option.Arity.MaximumNumberOfValues == 0 ? option.Name : $"{option.Name} {option.HelpName}";
            var line = $"{label} {Folded(option.Description!)}";
            Assert.True(help.Contains(line, StringComparison.Ordinal), $"'{path} --help' does not list: {line}");
            if (CliOption.DefaultText(option) is { } value)
            {
                Assert.True(help.Contains($"{line}{(option.Required ? " (required)" : "")} (default: {value})", StringComparison.Ordinal), $"'{path} --help' does not give the default of {option.Name}: {value}");
            }
        }

        Assert.All(outcome.Output.Split('\n'), l => Assert.True(l.TrimEnd('\r').Length <= HelpText.Width, $"{l.Length} columns: {l}"));
    }

    /// <summary>
    /// Options each command accepted but its hand-written help left out (`--seed` of execute and serve, `--id` and
    /// `--reduce-only` of backtest), and the new ones.
    /// </summary>
    [Theory]
    [InlineData("execute", "--seed")]
    [InlineData("serve", "--seed")]
    [InlineData("backtest", "--id")]
    [InlineData("backtest", "--reduce-only")]
    [InlineData("execute", "--strategy")]
    [InlineData("execute", "--price-expected")]
    [InlineData("execute", "--take-remainder")]
    [InlineData("execute", "--min-reprice-interval")]
    [InlineData("backtest", "--strategy")]
    [InlineData("backtest", "--price-expected")]
    [InlineData("backtest", "--take-remainder")]
    [InlineData("backtest", "--min-reprice-interval")]
    public async Task An_option_once_missing_from_the_help_is_listed(string command, string option)
    {
        var outcome = await CliRunner.RunAsync(null, command, "--help");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains(outcome.Output.Split('\n'), l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Parsing_refuses_every_option_the_definition_does_not_give_the_command(string path)
    {
        var accepted = CommandLine.Accepted(CommandAt(path)).Select(o => o.Name).ToHashSet();
        var foreign = CommandLine.Runnable.SelectMany(c => c.Command.Options).Select(o => o.Name).Where(n => !accepted.Contains(n)).Distinct()
            .Append("--not-an-option").ToList();
        Assert.True(foreign.Count > 1, "every command takes every option?");
        foreach (var name in foreign)
        {
            var refused = Assert.Throws<UsageException>(() => CommandLine.Parse([.. PathOf(path), name, "1"]));
            Assert.Equal($"unknown option '{name}'", refused.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Each_option_without_its_value_given_twice_or_with_a_value_it_does_not_take_is_named(string path)
    {
        foreach (var option in CommandAt(path).Options)
        {
            if (option.Arity.MaximumNumberOfValues == 0)
            {
                var valued = Assert.Throws<UsageException>(() => CommandLine.Parse([.. PathOf(path), option.Name + "=yes"]));
                Assert.Equal($"option '{option.Name}' takes no value, got 'yes'", valued.Message);
                continue;
            }

            var bare = Assert.Throws<UsageException>(() => CommandLine.Parse([.. PathOf(path), option.Name]));
            Assert.Equal($"option '{option.Name}' needs a value", bare.Message);
            var empty = Assert.Throws<UsageException>(() => CommandLine.Parse([.. PathOf(path), option.Name + "="]));
            Assert.Equal($"option '{option.Name}' needs a value", empty.Message);
            var twice = Assert.Throws<UsageException>(() => CommandLine.Parse([.. PathOf(path), option.Name, "1", option.Name, "1"]));
            Assert.Equal($"option '{option.Name}' is given twice", twice.Message);
        }
    }

    [Theory]
    [InlineData("chaser execute: option '--symbol' needs a value", "execute", "--symbol", "--side", "buy", "--notional", "100")]
    [InlineData("chaser execute: option '--notional' is given twice", "execute", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--notional", "100")]
    [InlineData("chaser execute: option '--json' takes no value, got 'yes'", "execute", "--json=yes", "--symbol", "BTCUSDT")]
    [InlineData("chaser execute: option '--side' is required", "execute", "--symbol", "BTCUSDT", "--notional", "100")]
    [InlineData("chaser execute: unexpected argument 'BTCUSDT'", "execute", "BTCUSDT", "--side", "buy", "--notional", "100")]
    [InlineData("chaser execute: unknown option '-symbol'", "execute", "-symbol", "BTCUSDT")]
    [InlineData("chaser execute: unknown option '--Symbol'", "execute", "--Symbol", "BTCUSDT")]
    [InlineData("chaser execute: unknown option '--notionl'", "execute", "--symbol", "BTCUSDT", "--notionl=100", "--side", "nope")]
    [InlineData("chaser execute: unexpected argument '@args.txt'", "execute", "@args.txt")]
    [InlineData("chaser demo: unexpected argument '[diagram]'", "demo", "[diagram]")]
    [InlineData("chaser demo: unexpected argument '--'", "demo", "--")]
    [InlineData("chaser demo: unexpected argument '--'", "demo", "--", "--json")]
    [InlineData("chaser chaser: unknown command 'chaser' (try 'chaser help')", "chaser", "demo")]
    [InlineData("chaser --version: unknown command '--version' (try 'chaser help')", "--version")]
    [InlineData("chaser help: unknown command 'nope' (try 'chaser help')", "help", "nope")]
    [InlineData("chaser db: expected 'chaser db migrate'", "db")]
    [InlineData("chaser db: unexpected argument 'upgrade'", "db", "upgrade")]
    [InlineData("chaser sim: option '--legacy-streams' takes no value, got 'yes'", "sim", "--legacy-streams=yes")]
    [InlineData("chaser sim: option '--port' must be a whole number from 0 to 65535, got '99999'", "sim", "--port", "99999")]
    [InlineData("chaser sim: option '--seed' is given twice", "sim", "--seed", "1", "--seed", "2", "--port", "99999")]
    [InlineData("chaser sim: option '--ed25519-public-key' needs '--ed25519-api-key KEY'", "sim", "--ed25519-public-key", "key.pem")]
    [InlineData("chaser sim: option '--ed25519-api-key' needs '--ed25519-public-key FILE'", "sim", "--ed25519-api-key", "k")]
    [InlineData("chaser sim: option '--ed25519-api-key' must differ from the HMAC API key ('--api-key')", "sim", "--api-key", "k", "--ed25519-api-key", "k", "--ed25519-public-key", "key.pem")]
    [InlineData("chaser report: option '--ids': 'x' is not an order id; use --ids 1,2,3", "report", "--ids", "1,x")]
    [InlineData("chaser report: unexpected argument '2'", "report", "--ids", "1", "2")]
    [InlineData("chaser report: option '--ids' is given twice", "report", "--ids", "1", "--ids", "2")]
    [InlineData("chaser serve: option '--venue' must be sim, demo, testnet or live, got 'Live'", "serve", "--venue", "Live")]
    public async Task A_parse_error_is_one_line_naming_the_option_never_the_parsers_own_report(string expected, params string[] args)
    {
        var outcome = await CliRunner.RunAsync(null, args);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal(expected, Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd('\r'));
        Assert.Equal("", outcome.Output);
    }

    [Fact]
    public async Task A_sim_ed25519_public_key_file_that_is_no_ed25519_public_key_is_refused_naming_the_option_and_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chaser-sim-key-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(path, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n", TestContext.Current.CancellationToken);
        try
        {
            var outcome = await CliRunner.RunAsync(null, "sim", "--ed25519-api-key", "k", "--ed25519-public-key", path);

            Assert.Equal(2, outcome.ExitCode);
            Assert.Equal($"chaser sim: option '--ed25519-public-key': {path}: not a PEM block labelled PUBLIC KEY", outcome.Error.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("help", "execute")]
    [InlineData("execute", "--help")]
    [InlineData("execute", "-h")]
    [InlineData("execute", "--symbol", "BTCUSDT", "--bogus", "--help")]
    public async Task Help_of_a_command_is_the_same_however_asked(params string[] args)
    {
        var outcome = await CliRunner.RunAsync(null, args);

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(CommandLine.HelpOf(CommandAt("execute")), outcome.Output.TrimEnd());
    }

    [Theory]
    [InlineData]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task No_command_or_help_prints_the_command_list(params string[] args)
    {
        var outcome = await CliRunner.RunAsync(null, args);

        Assert.Equal(0, outcome.ExitCode);
        foreach (var command in CommandLine.Definition.Subcommands)
        {
            Assert.Contains(outcome.Output.Split('\n'), l => l.StartsWith($"  {command.Name} ", StringComparison.Ordinal));
        }
    }

    private static string Folded(string text) => Whitespace().Replace(text, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
