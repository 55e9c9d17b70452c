using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Chaser.Core.Domain;

namespace Chaser.Cli;

/// <summary>Bad command-line input: the message names the option and the reason. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The kinds of option the commands are defined with. Each reads its value with the project's one parser for that
/// kind (<see cref="DecimalText"/>, <see cref="DurationText"/>, …) and refuses it with a message naming the option, so
/// every command gives the same reason for the same mistake.
/// </summary>
internal static class CliOption
{
    /// <summary><c>--db</c>: where runs are recorded (see <see cref="Recording"/>).</summary>
    public static Option<string?> Database(string purpose) => Text(
        "--db", "CONNECTION",
        $"{purpose}: a SQLite file or connection string (\"Data Source=chaser.db\") or PostgreSQL (\"Host=…;Username=…;" +
        $"Password=…;Database=…\" or postgres://…) (default: {Recording.DatabaseVariable}, else SQLite chaser.db here)");

    /// <summary><c>--seed</c>: the in-process simulator's synthetic market.</summary>
    public static Option<int> Seed(int min = 0) => Whole("--seed", "N", min, int.MaxValue, 1, "the seed of the simulator's synthetic market (the same seed, the same market)");

    /// <summary><c>--json</c>: the result as JSON on stdout.</summary>
    public static Option<bool> Json(string description = "print the result as JSON on stdout (progress goes to stderr)") => Flag("--json", description);

    /// <summary><c>--queue-model</c>: how the simulator's matching engine advances our place in the queue (backtest, sim).</summary>
    public static Option<Simulator.Engine.QueueModel> QueueModel() => Choice(
        "--queue-model",
        "how the matching engine advances our place in the queue: proportional (others' cancels at our price shrink the " +
        "queue ahead in proportion) or risk-averse (hftbacktest's: only trades do; a cancel can't leave more ahead than shows)",
        Simulator.Engine.QueueModel.Proportional,
        [Simulator.Engine.QueueModel.Proportional, Simulator.Engine.QueueModel.RiskAverse]);

    /// <summary><c>--markouts</c>: the markout tail sampled before the process exits.</summary>
    public static Option<bool> Markouts() => Flag(
        "--markouts", "stay 60 s after the orders end, sampling the book, so that `chaser report` shows +1/+10/+60 s markouts");

    /// <summary>A bare flag: present or not. <c>--json=yes</c> and <c>--json yes</c> are refused, never read as a value.</summary>
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>Free text, not empty.</summary>
    public static Option<string?> Text(string name, string helpName, string description, bool required = false) =>
        new(name) { Description = description, HelpName = helpName, Required = required, CustomParser = Parser<string?>(name, text => text) };

    /// <summary>Free text with a default shown in the help.</summary>
    public static Option<string> Text(string name, string helpName, string description, string defaultValue) =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue, CustomParser = Parser(name, text => text) };

    /// <summary>A decimal through <see cref="DecimalText"/>, sign allowed so that "-0.2" gets the caller's range message.</summary>
    public static Option<decimal?> Decimal(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, CustomParser = Parser<decimal?>(name, text => ParseDecimal(name, text)) };

    public static Option<int?> Whole(string name, string helpName, int min, int max, string description) =>
        new(name) { Description = description, HelpName = helpName, CustomParser = Parser<int?>(name, text => ParseWhole(name, text, min, max)) };

    public static Option<int> Whole(string name, string helpName, int min, int max, int defaultValue, string description) =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue, CustomParser = Parser(name, text => ParseWhole(name, text, min, max)) };

    /// <summary>A duration (<c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>500ms</c>, <c>00:10:00</c>) through <see cref="DurationText"/>, greater than zero.</summary>
    public static Option<TimeSpan?> Duration(string name, string description) =>
        new(name) { Description = description, HelpName = "DURATION", CustomParser = Parser<TimeSpan?>(name, text => ParseDuration(name, text)) };

    /// <summary>A duration from zero to <paramref name="max"/> (zero means "no wait").</summary>
    public static Option<TimeSpan?> Duration(string name, TimeSpan max, string maxText, string description) =>
        new(name) { Description = description, HelpName = "DURATION", CustomParser = Parser<TimeSpan?>(name, text => ParseBoundedDuration(name, text, max, maxText)) };

    /// <summary>An absolute http(s):// or ws(s):// URL.</summary>
    public static Option<Uri?> Url(string name, string description) =>
        new(name) { Description = description, HelpName = "URL", CustomParser = Parser<Uri?>(name, text => ParseUrl(name, text)) };

    /// <summary>
    /// One of <paramref name="choices"/>, each named by its lower-case name (the help shows them as <c>a|b|c</c>);
    /// <paramref name="aliases"/> are accepted too but not listed.
    /// </summary>
    public static Option<T> Choice<T>(string name, string description, T[] choices, bool ignoreCase = false, (string Name, T Value)[]? aliases = null, bool required = false)
        where T : struct, Enum
    {
        var names = choices.Select(c => (Name: NameOf(c), Value: c)).Concat(aliases ?? []).ToArray();
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var listed = choices.Select(NameOf).ToArray();
        return new Option<T>(name)
        {
            Description = description,
            HelpName = string.Join('|', listed),
            Required = required,
            CustomParser = Parser(name, text =>
            {
                foreach (var (choice, value) in names)
                {
                    if (string.Equals(choice, text, comparison))
                    {
                        return value;
                    }
                }

                throw new UsageException($"option '{name}' must be {Alternatives(listed)}, got '{text}'");
            }),
        };
    }

    /// <summary>As <see cref="Choice{T}(string, string, T[], bool, ValueTuple{string, T}[], bool)"/>, with a default shown in the help.</summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue, T[] choices)
        where T : struct, Enum
    {
        var option = Choice(name, description, choices);
        option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>How a choice is written on the command line and in the help: its name in lower case, words joined by '-' (RiskAverse: risk-averse).</summary>
    public static string NameOf<T>(T choice)
        where T : struct, Enum => KebabCase(choice.ToString());

    private static string KebabCase(string name) => string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>
    /// The option's value when it was given, else null: for a list, whose value when absent is System.CommandLine's
    /// empty list ("no order"), where absent means "no filter".
    /// </summary>
    public static T? ValueGiven<T>(ParseResult args, Option<T?> option)
        where T : class => args.GetResult(option) is { Implicit: false } ? args.GetValue(option) : null;

    /// <summary>A default value as the help prints it (and as the option would be given).</summary>
    public static string? DefaultText(Option option)
    {
        if (!option.HasDefaultValue || option.Arity.MaximumNumberOfValues == 0)
        {
            return null;
        }

        return option.GetDefaultValue() switch
        {
            null => null,
            Enum choice => KebabCase(choice.ToString()),
            IFormattable value => value.ToString(null, CultureInfo.InvariantCulture),
            var value => value.ToString(),
        };
    }

    /// <summary>"a", "a or b", "a, b or c".</summary>
    public static string Alternatives(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];

    /// <summary>
    /// Reads the option's one value with <paramref name="convert"/>; a refused value becomes the option's parse error.
    /// With no value, the parser's own arity error stands and is named later.
    /// </summary>
    public static Func<ArgumentResult, T> Parser<T>(string name, Func<string, T> convert) => result =>
    {
        if (result.Tokens.Count != 1)
        {
            // Never a value from several: should an option gather more than one, that is an error, not the first or none.
            if (result.Tokens.Count > 1)
            {
                result.AddError($"option '{name}' is given twice");
            }

            return default!;
        }

        var text = result.Tokens[0].Value;
        // System.CommandLine takes whatever follows an option as its value, another option included: "--symbol
        // --side buy" is a forgotten value, not the symbol "--side".
        if (text.Length == 0 || text.StartsWith("--", StringComparison.Ordinal))
        {
            result.AddError($"option '{name}' needs a value");
            return default!;
        }

        try
        {
            return convert(text);
        }
        catch (UsageException e)
        {
            result.AddError(e.Message);
            return default!;
        }
    };

    private static decimal ParseDecimal(string name, string text) =>
        DecimalText.TryParse(text, out var value, out var reason, DecimalTextOptions.AllowSign)
            ? value
            : throw new UsageException($"option '{name}' must be a number, got '{text}': {reason}");

    private static int ParseWhole(string name, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"option '{name}' must be a whole number from {min} to {max}, got '{text}'");

    private static TimeSpan ParseDuration(string name, string text) =>
        DurationText.TryParse(text, out var value) && value > TimeSpan.Zero
            ? value
            : throw new UsageException($"option '{name}' must be a positive duration like 90s, 10m or 1h, got '{text}'");

    private static TimeSpan ParseBoundedDuration(string name, string text, TimeSpan max, string maxText) =>
        DurationText.TryParse(text, out var value) && value >= TimeSpan.Zero && value <= max
            ? value
            : throw new UsageException($"option '{name}' must be a duration from 0 to {maxText} like 200ms or 1s, got '{text}'");

    private static Uri ParseUrl(string name, string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "ws" or "wss"
            ? uri
            : throw new UsageException($"option '{name}' must be an absolute http(s):// or ws(s):// URL, got '{text}'");
}
