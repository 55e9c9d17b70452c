using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Parquet.Serialization;

namespace Chaser.Reporting;

/// <summary>The report's rows as CSV, Parquet and JSON, with the same column names everywhere.</summary>
public static class ReportFiles
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = true,
    };

    private static readonly (string Name, PropertyInfo Property)[] Columns = [.. typeof(ReportRow)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Select(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name, p))];

    /// <summary>The column names, in file order.</summary>
    public static IReadOnlyList<string> ColumnNames { get; } = [.. Columns.Select(c => c.Name)];

    /// <summary>RFC 4180 CSV, invariant culture, ISO 8601 UTC times, empty cells for nulls.</summary>
    public static string ToCsv(IEnumerable<ReportRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var csv = new StringBuilder();
        csv.AppendJoin(',', ColumnNames).Append("\r\n");
        foreach (var row in rows)
        {
            csv.AppendJoin(',', Columns.Select(c => Cell(c.Property.GetValue(row)))).Append("\r\n");
        }

        return csv.ToString();
    }

    /// <summary>A Parquet file (one row group) for pandas / polars / DuckDB.</summary>
    public static async Task WriteParquetAsync(IEnumerable<ReportRow> rows, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        await ParquetSerializer.SerializeAsync(rows.ToList(), destination, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public static string ToJson(ExecutionReport report) => JsonSerializer.Serialize(report, Json);

    // A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) is kept as text with a leading quote.
    // Numbers are not text cells here, so a negative slippage stays a number.
    private static string Defused(string text) => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    private static string Quoted(string text) =>
        text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    private static string Cell(object? value) => value switch
    {
        null => "",
        DateTime time => time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        string text => Quoted(Defused(text)),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
