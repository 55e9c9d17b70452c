using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Chaser.Core.Chasing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql;

namespace Chaser.Storage;

/// <summary>Which database engine a connection string names.</summary>
public enum DatabaseProvider
{
    /// <summary>The embedded default: a file, no server.</summary>
    Sqlite,

    PostgreSql,
}

/// <summary>
/// Chaser's tables through EF Core: <c>orders</c> (the parent orders, with the seed's fields), <c>child_orders</c>,
/// <c>fills</c>, <c>mids</c> and <c>events</c>. PostgreSQL keeps money as <c>numeric</c> and times as
/// <c>timestamptz</c>; SQLite, which has neither, keeps money as invariant TEXT (exact round trip) and times as
/// INTEGER UTC ticks (so they sort). The schema itself comes from the versioned SQL in <c>Schema/</c>
/// (<see cref="DatabaseMigrator"/>), not from EF's model, so both providers' DDL is written and reviewed by hand.
/// </summary>
public sealed class ChaserDb : DbContext
{
    public const string DefaultSqlite = "Data Source=chaser.db";

    private readonly string _connectionString;

    public ChaserDb(string? connectionString = null)
    {
        _connectionString = string.IsNullOrWhiteSpace(connectionString) ? DefaultSqlite : connectionString;
        Provider = ProviderOf(_connectionString);
    }

    public DatabaseProvider Provider { get; }

    public DbSet<OrderRow> Orders
    {
        get
        {
            var orders = Set<OrderRow>();
            OrderQueryOwners.AddOrUpdate(((IQueryable)orders).Provider, this);
            return orders;
        }
    }

    public DbSet<ChildOrderRow> ChildOrders => Set<ChildOrderRow>();

    public DbSet<FillRow> Fills => Set<FillRow>();

    public DbSet<MidRow> Mids => Set<MidRow>();

    public DbSet<MarketTradeRow> MarketTrades => Set<MarketTradeRow>();

    public DbSet<EventRow> Events => Set<EventRow>();

    /// <summary>Every input each order's state machine was handed, for <c>chaser replay</c> (<see cref="Storage.OrderInputs"/>).</summary>
    public DbSet<OrderInputRow> OrderInputs => Set<OrderInputRow>();

    /// <summary>
    /// This database's instance tag, the one inside every client order id of its orders (<see cref="ClientOrderIds"/>):
    /// drawn at random on first use and kept in <c>instance</c>, so a restarted process recognises its own orders and
    /// two databases on one account never share ids. Race-free: concurrent first callers all get the row inserted first.
    /// </summary>
    public Task<string> GetClientIdTagAsync(CancellationToken cancellationToken = default) => ClientIdTagAsync(_connectionString, cancellationToken);

    /// <summary>
    /// <see cref="GetClientIdTagAsync"/> on a plain connection: every start reads it, and through EF
    /// Core the first read costs its service provider, model and query pipeline (a few hundred ms).
    /// </summary>
    public static async Task<string> ClientIdTagAsync(string? connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = CreateConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var tag = await ReadClientIdTagAsync(connection, cancellationToken).ConfigureAwait(false);
        if (tag is null)
        {
            await using (var insert = connection.CreateCommand())
            {
                insert.CommandText = "INSERT INTO instance (id, client_id_tag) VALUES (1, @tag) ON CONFLICT (id) DO NOTHING";
                var drawn = insert.CreateParameter();
                drawn.ParameterName = "@tag";
                drawn.Value = ClientOrderIds.NewTag();
                insert.Parameters.Add(drawn);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            tag = await ReadClientIdTagAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        return ClientOrderIds.IsValidTag(tag)
            ? tag!
            : throw new InvalidOperationException($"instance.client_id_tag holds '{tag}', not a client id tag ({ClientOrderIds.TagLength} characters of [0-9a-z])");
    }

    /// <summary>
    /// Pays EF Core's first use (its service provider, the model, the query pipeline's first compilation: a few hundred
    /// ms of run-time work, which ReadyToRun does not precompile) with one read of <c>orders</c>, so that a caller can
    /// overlap it with other work instead of the first API request paying it. A database that fails here is left for
    /// the request that reads it to report.
    /// </summary>
    public static async Task WarmUpAsync(string? connectionString, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = new ChaserDb(connectionString);
            await db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Working).OrderBy(o => o.Id).Take(1).ToListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            // The same read fails again where it counts, with its error.
        }
    }

    /// <summary>
    /// A plain ADO.NET connection (not opened) to the database a connection string names, for the few statements every
    /// start runs (the schema check, the write probe, the instance tag) without paying for EF Core's first use.
    /// </summary>
    public static DbConnection CreateConnection(string? connectionString)
    {
        var text = string.IsNullOrWhiteSpace(connectionString) ? DefaultSqlite : connectionString;
        var provider = ProviderOf(text);
        var normalized = Normalize(text, provider);
        return provider == DatabaseProvider.PostgreSql ? new NpgsqlConnection(normalized) : new SqliteConnection(normalized);
    }

    // Which context a query of Orders came from (EF gives each context its own query provider, and every query built
    // on Orders keeps it): a claim runs its conditional updates in one transaction of that context.
    private static readonly ConditionalWeakTable<IQueryProvider, ChaserDb> OrderQueryOwners = new();

    /// <summary>The context a query built on <see cref="Orders"/> runs on, or null for a query from elsewhere.</summary>
    internal static ChaserDb? Owning(IQueryable<OrderRow> query) => OrderQueryOwners.TryGetValue(query.Provider, out var db) ? db : null;

    /// <summary>The connection string as given; it may hold a password, so it is never logged.</summary>
    internal string ConnectionString => _connectionString;

    private static async Task<string?> ReadClientIdTagAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT client_id_tag FROM instance WHERE id = 1";
        return await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>PostgreSQL for <c>Host=…</c> / <c>postgres://</c> strings, SQLite otherwise (<c>Data Source=…</c> or a file name).</summary>
    public static DatabaseProvider ProviderOf(string connectionString)
    {
        var text = connectionString.TrimStart();
        return text.StartsWith("Host=", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("Server=", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            ? DatabaseProvider.PostgreSql
            : DatabaseProvider.Sqlite;
    }

    /// <summary>SQLite connection strings may be a bare file name; PostgreSQL URLs become key/value strings.</summary>
    internal static string Normalize(string connectionString, DatabaseProvider provider)
    {
        var text = connectionString.Trim();
        if (provider == DatabaseProvider.Sqlite)
        {
            return text.Contains('=', StringComparison.Ordinal) ? text : "Data Source=" + text;
        }

        if (!text.Contains("://", StringComparison.Ordinal))
        {
            return text;
        }

        // A URL that does not parse is the caller's input, named as such (not an internal error).
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException("the connection string looks like a postgres:// URL but is not a valid one (postgres://user:password@host:port/database)");
        }

        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"Host={uri.Host};Port={(uri.Port > 0 ? uri.Port : 5432)}");
        var database = uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $";Database={Uri.UnescapeDataString(database)}");
        }

        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Append(CultureInfo.InvariantCulture, $";Username={Uri.UnescapeDataString(parts[0])}");
            if (parts.Length == 2)
            {
                builder.Append(CultureInfo.InvariantCulture, $";Password={Uri.UnescapeDataString(parts[1])}");
            }
        }

        return builder.ToString();
    }

    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder)
    {
        var normalized = Normalize(_connectionString, Provider);
        if (Provider == DatabaseProvider.PostgreSql)
        {
            optionsBuilder.UseNpgsql(normalized);
        }
        else
        {
            optionsBuilder.UseSqlite(normalized);
        }
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OrderRow>(order =>
        {
            order.ToTable("orders");
            order.HasMany(o => o.Children).WithOne().HasForeignKey(c => c.OrderId);
            order.HasMany(o => o.Fills).WithOne().HasForeignKey(f => f.OrderId);
            order.HasMany(o => o.Mids).WithOne().HasForeignKey(m => m.OrderId);
            order.HasMany(o => o.Events).WithOne().HasForeignKey(e => e.OrderId);
            order.HasMany(o => o.MarketTrades).WithOne().HasForeignKey(t => t.OrderId);
        });
        modelBuilder.Entity<ChildOrderRow>().ToTable("child_orders");
        modelBuilder.Entity<FillRow>().ToTable("fills");
        modelBuilder.Entity<MidRow>().ToTable("mids");
        modelBuilder.Entity<EventRow>().ToTable("events");
        modelBuilder.Entity<MarketTradeRow>().ToTable("market_trades");
        modelBuilder.Entity<OrderInputRow>().ToTable("order_inputs");

        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.Name));
                var type = Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType;
                if (Provider == DatabaseProvider.Sqlite && type == typeof(decimal))
                {
                    property.SetValueConverter(DecimalAsText);
                }
                else if (Provider == DatabaseProvider.Sqlite && type == typeof(DateTimeOffset))
                {
                    property.SetValueConverter(TimeAsTicks);
                }
                else if (Provider == DatabaseProvider.PostgreSql && type == typeof(DateTimeOffset))
                {
                    property.SetValueConverter(TimeAsUtc);
                }
            }
        }
    }

    /// <summary>A .NET property name as a column name: <c>PriceExpected</c> → <c>price_expected</c>.</summary>
    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    /// <summary>UTC ticks truncated to whole microseconds: what PostgreSQL keeps, so both providers agree.</summary>
    public static long ToStoredTicks(DateTimeOffset time) => time.UtcTicks - (time.UtcTicks % 10);

    public static string ToStoredText(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Money as SQLite keeps it (invariant text) read back.</summary>
    public static decimal FromStoredText(string text) => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);

    private static readonly ValueConverter<decimal, string> DecimalAsText = new(
        value => value.ToString(CultureInfo.InvariantCulture),
        text => FromStoredText(text));

    private static readonly ValueConverter<DateTimeOffset, long> TimeAsTicks = new(
        time => time.UtcTicks - (time.UtcTicks % 10),
        ticks => new DateTimeOffset(ticks, TimeSpan.Zero));

    // Npgsql writes timestamptz only from UTC values; any offset the caller used is an instant all the same.
    private static readonly ValueConverter<DateTimeOffset, DateTimeOffset> TimeAsUtc = new(
        time => time.ToUniversalTime(),
        time => time.ToUniversalTime());
}
