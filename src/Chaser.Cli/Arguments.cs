using System.Globalization;
using Chaser.Core.Domain;

namespace Chaser.Cli;

/// <summary>Bad command-line input: the message names the option and the reason. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The options of one command: <c>--name value</c> pairs and bare flags, each declared up front so that a typo is an
/// error naming the option rather than something silently ignored.
/// </summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private Arguments()
    {
    }

    public static Arguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flagOptions)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string name;
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
            }

            if (flagOptions.Contains(name))
            {
                if (inlineValue is not null)
                {
                    throw new UsageException($"option '{name}' takes no value");
                }

                parsed._flags.Add(name);
                continue;
            }

            if (!valueOptions.Contains(name))
            {
                throw new UsageException(name.StartsWith('-') ? $"unknown option '{name}'" : $"unexpected argument '{name}'");
            }

            if (parsed._values.ContainsKey(name))
            {
                throw new UsageException($"option '{name}' is given twice");
            }

            var value = inlineValue;
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"option '{name}' needs a value");
                }

                value = args[++i];
            }

            if (value.Length == 0)
            {
                throw new UsageException($"option '{name}' needs a value");
            }

            parsed._values[name] = value;
        }

        return parsed;
    }

    public bool Has(string name) => _flags.Contains(name) || _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public string Require(string name) => Get(name) ?? throw new UsageException($"option '{name}' is required");

    public decimal? GetDecimal(string name)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }

        // A sign is read so that "-0.2" gets the caller's range message ("must be greater than zero").
        if (!DecimalText.TryParse(text, out var value, out var reason, DecimalTextOptions.AllowSign))
        {
            throw new UsageException($"option '{name}' must be a number, got '{text}': {reason}");
        }

        return value;
    }

    public int? GetInt(string name, int min, int max)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new UsageException($"option '{name}' must be a whole number from {min} to {max}, got '{text}'");
        }

        return value;
    }

    public Uri? GetUri(string name)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ws" or "wss"))
        {
            throw new UsageException($"option '{name}' must be an absolute http(s):// or ws(s):// URL, got '{text}'");
        }

        return uri;
    }

    /// <summary>A duration such as <c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>500ms</c> or <c>00:10:00</c>.</summary>
    public TimeSpan? GetDuration(string name)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }

        if (!DurationText.TryParse(text, out var value) || value <= TimeSpan.Zero)
        {
            throw new UsageException($"option '{name}' must be a positive duration like 90s, 10m or 1h, got '{text}'");
        }

        return value;
    }

}
