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
