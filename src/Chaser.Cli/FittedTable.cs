using Spectre.Console;

namespace Chaser.Cli;

/// <summary>
/// One column of a <see cref="FittedTable"/>: its heading, a shorter heading for a narrow console, its rank among the
/// columns dropped when the console is too narrow (<see cref="Kept"/>: never dropped; otherwise the higher, the sooner
/// it goes), and its cell, formatted once and never wrapped.
/// </summary>
internal sealed record FitColumn<TRow>(string Heading, string ShortHeading, int DropRank, Func<TRow, string> Cell)
{
    /// <summary>The table says nothing without it (which order, which side, how much, how it ended).</summary>
    public const int Kept = 0;

    public FitColumn(string heading, int dropRank, Func<TRow, string> cell)
        : this(heading, heading, dropRank, cell)
    {
    }
}

/// <summary>
/// A table that fits a console of a given width with one line per row: every column when they all fit, else the short
/// headings and the columns most needed that fit, in their declared order. A cell is never wrapped (a number broken
/// over two lines reads as two numbers); what was left out is named in the caption.
/// </summary>
internal static class FittedTable
{
    /// <param name="columns">Every column, in the order shown.</param>
    /// <param name="rows">One line each.</param>
    /// <param name="width">The console's columns: no line is wider while the kept columns fit.</param>
    /// <param name="caption">Under the table; the columns left out are named after it.</param>
    /// <param name="unicode">
    /// False for redirected output: an ASCII border and headings, so that a file or a pipe has one byte per column
    /// for every tool that reads it (awk, cut, a log viewer); the cells are the data and stay as they are.
    /// </param>
    public static Table Build<TRow>(IReadOnlyList<FitColumn<TRow>> columns, IReadOnlyList<TRow> rows, int width, string? caption, bool unicode = true)
    {
        var cells = rows.Select(row => columns.Select(column => OneLine(column.Cell(row))).ToArray()).ToArray();
        var headings = columns.Select(column => unicode ? column.Heading : Plain(column.Heading)).ToArray();
        var picked = Pick(columns, headings, cells, width);
        if (picked.Count < columns.Count)
        {
            headings = columns.Select(column => unicode ? column.ShortHeading : Plain(column.ShortHeading)).ToArray();
            picked = Pick(columns, headings, cells, width);
        }

        var table = new Table().Border(unicode ? TableBorder.Rounded : TableBorder.Ascii);
        foreach (var index in picked)
        {
            table.AddColumn(new TableColumn(Markup.Escape(headings[index])).RightAligned());
        }

        foreach (var row in cells)
        {
            table.AddRow(picked.Select(index => Markup.Escape(row[index])).ToArray());
        }

        var hidden = Enumerable.Range(0, columns.Count).Where(index => !picked.Contains(index)).Select(index => headings[index]).ToArray();
        var text = hidden.Length == 0 ? caption : (caption is null ? "" : caption + "; ") + $"not shown at {width} columns: {string.Join(", ", hidden)}";
        if (text is not null)
        {
            table.Caption(Markup.Escape(unicode ? text : Plain(text)));
        }

        return table;
    }

    /// <summary>Console columns a rounded table of these column widths takes: "│ " before each cell, " " after, a closing "│".</summary>
    public static int TableWidth(IEnumerable<int> columnWidths) => 1 + columnWidths.Sum(w => w + 3);

    /// <summary>
    /// Terminal cells of <paramref name="text"/> as Spectre lays the table out: a wide character (CJK, most emoji) is
    /// two, a combining mark none. Counted in characters, a wide strategy tag was given half its width and wrapped its row.
    /// </summary>
    public static int Measure(string text) => text.GetCellWidth();

    // The kept columns, then the others from the most needed, each taken if it fits beside those taken before it (a
    // narrow column the less needed may fit where a wide one did not); shown in the declared order.
    private static List<int> Pick<TRow>(IReadOnlyList<FitColumn<TRow>> columns, string[] headings, string[][] cells, int width)
    {
        var taken = new SortedSet<int>();
        var used = TableWidth([]);
        foreach (var index in Enumerable.Range(0, columns.Count).OrderBy(index => columns[index].DropRank))
        {
            var columnWidth = cells.Select(row => Measure(row[index])).Append(Measure(headings[index])).Max() + 3;
            if (columns[index].DropRank == FitColumn<TRow>.Kept || used + columnWidth <= width)
            {
                taken.Add(index);
                used += columnWidth;
            }
        }

        return [.. taken];
    }

    /// <summary>A cell on one line: a control character in recorded text (a strategy tag, a symbol) is shown as '?', never as a line break.</summary>
    private static string OneLine(string text) => text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? '?' : c)) : text;

    /// <summary>Our own words in ASCII: the arrow, micro and half of the headings and captions spelled out.</summary>
    public static string Plain(string text) =>
        text.Replace("→", "->", StringComparison.Ordinal).Replace("µs", "us", StringComparison.Ordinal).Replace("½", "1/2", StringComparison.Ordinal);

    /// <summary>
    /// One line of words (a progress line) fitted like a table: the kept parts (rank 0) and those most needed that fit,
    /// in order; an empty part is no part. Each part is counted with a separator, so that the line is never wider than <paramref name="width"/>.
    /// </summary>
    public static string Line(IReadOnlyList<(string Text, int DropRank)> parts, int width)
    {
        var taken = new SortedSet<int>();
        var used = -1;
        foreach (var index in Enumerable.Range(0, parts.Count).OrderBy(index => parts[index].DropRank))
        {
            var partWidth = Measure(parts[index].Text) + 1;
            if (parts[index].Text.Length == 0)
            {
                continue;
            }

            if (parts[index].DropRank == 0 || used + partWidth <= width)
            {
                taken.Add(index);
                used += partWidth;
            }
        }

        // A part that starts with a comma continues the one before it (", resting 65,000"); the others are words.
        return string.Concat(taken.Select((index, n) => n == 0 || parts[index].Text.StartsWith(',') ? parts[index].Text : " " + parts[index].Text));
    }
}
