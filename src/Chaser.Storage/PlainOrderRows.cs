using System.Data.Common;
using System.Globalization;
using System.Reflection;

namespace Chaser.Storage;

/// <summary>
/// Reads <c>orders</c> rows on a plain ADO.NET connection, column for column as <see cref="ChaserDb"/>'s model maps
/// them (each scalar property under its snake_case name; on SQLite money as invariant text and times as UTC ticks, on
/// PostgreSQL <c>numeric</c> and <c>timestamptz</c>). The order store's reads run at every start (restart recovery),
/// and through EF Core the first of them costs its service provider, model and query compilation: hundreds of ms of
/// run-time work on the path to listening.
/// </summary>
internal static class PlainOrderRows
{
    // The navigations (children, fills, …) are lists: everything else is a column.
    private static readonly PropertyInfo[] Columns = [.. typeof(OrderRow).GetProperties().Where(p => p.PropertyType.IsValueType || p.PropertyType == typeof(string))];

    private static readonly string SelectList = string.Join(", ", Columns.Select(p => ChaserDb.SnakeCase(p.Name)));

    /// <summary>The rows <paramref name="where"/> selects (SQL over the columns, parameters named @p0, @p1, …), by id.</summary>
    public static async Task<List<OrderRow>> SelectAsync(string? connectionString, string where, IReadOnlyList<object> parameters, CancellationToken cancellationToken)
    {
        var provider = ChaserDb.ProviderOf(string.IsNullOrWhiteSpace(connectionString) ? ChaserDb.DefaultSqlite : connectionString);
        await using var connection = ChaserDb.CreateConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SelectList} FROM orders WHERE {where} ORDER BY id";
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            parameter.Value = parameters[i];
            command.Parameters.Add(parameter);
        }

        var rows = new List<OrderRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = new OrderRow();
            for (var i = 0; i < Columns.Length; i++)
            {
                if (!await reader.IsDBNullAsync(i, cancellationToken).ConfigureAwait(false))
                {
                    Columns[i].SetValue(row, Value(reader, i, Nullable.GetUnderlyingType(Columns[i].PropertyType) ?? Columns[i].PropertyType, provider));
                }
            }

            rows.Add(row);
        }

        return rows;
    }

    private static object Value(DbDataReader reader, int ordinal, Type type, DatabaseProvider provider)
    {
        if (type == typeof(decimal))
        {
            return provider == DatabaseProvider.Sqlite ? ChaserDb.FromStoredText(reader.GetString(ordinal)) : reader.GetDecimal(ordinal);
        }

        if (type == typeof(DateTimeOffset))
        {
            return provider == DatabaseProvider.Sqlite
                ? new DateTimeOffset(reader.GetInt64(ordinal), TimeSpan.Zero)
                : reader.GetFieldValue<DateTimeOffset>(ordinal).ToUniversalTime();
        }

        // Integers and booleans: SQLite hands every INTEGER as a long, PostgreSQL each in its own width.
        return Convert.ChangeType(reader.GetValue(ordinal), type, CultureInfo.InvariantCulture);
    }
}
