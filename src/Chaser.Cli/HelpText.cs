using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace Chaser.Cli;

/// <summary>
/// Help text fitted to a terminal: a line wider than the width is wrapped at spaces, its continuation indented to the
/// description column of an option line (or under the first bracket of a usage line), so `--help` reads at 80
/// columns however long the descriptions grow.
/// </summary>
internal static class HelpText
{
    public const int Width = 80;

    /// <summary>The widest option column; a longer one (a long list of choices) puts its description after two spaces.</summary>
    private const int MaxOptionColumn = 26;

    /// <summary><c>chaser --help</c>: every command with its description.</summary>
    public static string ForCommands(Command root)
    {
        var text = new StringBuilder();
        text.Append("usage: ").Append(root.Name).Append(" <command> [options]      (").Append(root.Name).Append(" <command> --help: its options)\n\n");
        var column = root.Subcommands.Max(c => c.Name.Length) + 3;
        foreach (var command in root.Subcommands)
        {
            text.Append("  ").Append(command.Name.PadRight(column)).Append(command.Description).Append('\n');
        }

        text.Append('\n');
        AppendOptions(text, [.. root.Options]);
        return Wrap(text.ToString().TrimEnd());
    }

    /// <summary>
    /// A command's help from its definition: the usage line (required options bare, the others in brackets), its
    /// description, every option it accepts with its description, "(required)" and its default, then the notes.
    /// </summary>
    public static string ForCommand(Command command, string notes)
    {
        var text = new StringBuilder();
        var options = CommandLine.Accepted(command).ToList();
        text.Append("usage: ").Append(string.Join(' ', CommandLine.PathOf(command)));
        foreach (var option in options.Where(o => o is not HelpOption))
        {
            text.Append(' ').Append(option.Required ? Label(option) : $"[{Label(option)}]");
        }

        text.Append("\n\n  ").Append(command.Description).Append("\n\n");
        AppendOptions(text, options);
        if (notes.Length > 0)
        {
            text.Append('\n').Append(notes.TrimEnd()).Append('\n');
        }

        return Wrap(text.ToString().TrimEnd());
    }

    /// <summary>A command of commands (<c>chaser db</c>): its description, then the help of each of its commands.</summary>
    public static string ForGroup(Command group, Func<Command, string> notesOf) =>
        Wrap($"  {group.Description}") + "\n\n" + string.Join("\n\n", group.Subcommands.Select(c => ForCommand(c, notesOf(c))));

    /// <summary>"--symbol SYMBOL", "--json".</summary>
    private static string Label(Option option) =>
        option.Arity.MaximumNumberOfValues == 0 ? option.Name : $"{option.Name} {option.HelpName ?? "VALUE"}";

    private static void AppendOptions(StringBuilder text, IReadOnlyCollection<Option> options)
    {
        static string First(Option option) => option is HelpOption ? string.Join(", ", option.Aliases.Order().Append(option.Name)) : Label(option);
        var column = Math.Min(options.Max(o => First(o).Length), MaxOptionColumn) + 2;
        foreach (var option in options)
        {
            var first = First(option);
            text.Append("  ").Append(first.Length + 2 <= column ? first.PadRight(column) : first + "  ").Append(option.Description);
            if (option.Required)
            {
                text.Append(" (required)");
            }

            if (CliOption.DefaultText(option) is { } value)
            {
                text.Append(" (default: ").Append(value).Append(')');
            }

            text.Append('\n');
        }
    }

    public static string Wrap(string text, int width = Width)
    {
        // Continuation lines (indented to the column the line before them continues at) rejoin it first, so that a
        // description is refilled as one paragraph rather than wrapped line by line.
        var logical = new List<string>();
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.TrimEnd();
            var lead = line.Length - line.TrimStart().Length;
            var continues = line.Length > 0 && !line.TrimStart().StartsWith("--", StringComparison.Ordinal);
            if (continues && logical.Count > 0 && logical[^1].Length > 0 && lead > 0 && lead == HangingIndent(logical[^1]))
            {
                logical[^1] += " " + line.TrimStart();
            }
            else
            {
                logical.Add(line);
            }
        }

        var result = new StringBuilder(text.Length + 64);
        foreach (var line in logical)
        {
            if (result.Length > 0)
            {
                result.Append('\n');
            }

            WrapLine(line, width, result);
        }

        return result.ToString();
    }

    private static void WrapLine(string line, int width, StringBuilder result)
    {
        if (line.Length <= width)
        {
            result.Append(line);
            return;
        }

        var hanging = new string(' ', Math.Min(HangingIndent(line), width / 2));
        var usage = line.TrimStart().StartsWith("usage:", StringComparison.Ordinal);
        var start = 0;
        var first = true;
        while (start < line.Length)
        {
            var prefix = first ? string.Empty : hanging;
            var room = width - prefix.Length;
            var rest = line.AsSpan(start);
            if (rest.Length <= room)
            {
                result.Append(prefix).Append(rest);
                break;
            }

            var cut = BreakAt(rest, room, usage, first);
            result.Append(prefix).Append(rest[..cut].TrimEnd()).Append('\n');
            start += cut;
            while (start < line.Length && line[start] == ' ')
            {
                start++;
            }

            first = false;
        }
    }

    /// <summary>Where a continuation starts: under an option's description, or under a usage line's first option.</summary>
    private static int HangingIndent(string line)
    {
        var lead = line.Length - line.TrimStart().Length;
        if (line.TrimStart().StartsWith("usage:", StringComparison.Ordinal))
        {
            var bracket = line.IndexOfAny(['[', '(', '<', '-'], lead + "usage:".Length);
            return bracket > 0 ? bracket : lead + 4;
        }

        // "  --option   description": the description column is after the first gap of two or more spaces.
        var gap = line.IndexOf("  ", lead, StringComparison.Ordinal);
        if (gap > lead)
        {
            var column = gap;
            while (column < line.Length && line[column] == ' ')
            {
                column++;
            }

            return column;
        }

        return lead;
    }

    /// <summary>The last space within <paramref name="room"/>; on a usage line, preferably one before a '['.</summary>
    private static int BreakAt(ReadOnlySpan<char> text, int room, bool usage, bool first)
    {
        var limit = Math.Min(room, text.Length - 1);
        if (usage)
        {
            for (var i = limit; i > 0; i--)
            {
                if (text[i] == ' ' && text[i + 1] is '[' or '(')
                {
                    return i;
                }
            }
        }

        for (var i = limit; i > 0; i--)
        {
            // Never break inside the leading indent of the first line.
            if (text[i] == ' ' && (!first || text[..i].Trim().Length > 0))
            {
                return i;
            }
        }

        return Math.Min(room, text.Length); // one word longer than the room: cut it
    }
}
