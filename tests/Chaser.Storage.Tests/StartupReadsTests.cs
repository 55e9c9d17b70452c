using System.Diagnostics;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Chaser.Storage.Tests;

/// <summary>
/// What every start runs (the schema check, the instance tag, restart recovery's reads) goes over plain connections:
/// EF Core's first use costs hundreds of ms that would sit on the path to `chaser serve` listening. The plain reads
/// must return exactly what EF Core's model reads.
/// </summary>
public class StartupReadsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task The_start_up_statements_never_initialise_an_EF_Core_context(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var store = new OrderStore(database.ConnectionString);
        using var contexts = new ContextsOn(ChaserDb.Normalize(database.ConnectionString, provider));

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], await DatabaseMigrator.MigrateAsync(database.ConnectionString, Ct));
        Assert.Empty(await DatabaseMigrator.MigrateAsync(database.ConnectionString, Ct));
        var tag = await ChaserDb.ClientIdTagAsync(database.ConnectionString, Ct);
        Assert.Equal(tag, await store.GetClientIdTagAsync(Ct));
        Assert.Empty(await store.GetWorkingAsync(Ct));
        Assert.Empty(await store.GetAsync([1, 2], Ct));
        Assert.Equal(0, contexts.Initialised);

        // The listener does see a context when one is used: the check above can fail.
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            Assert.Equal(tag, await db.GetClientIdTagAsync(Ct));
            Assert.Equal(0, await db.Orders.CountAsync(Ct));
        }

        Assert.Equal(1, contexts.Initialised);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task The_plain_reads_return_every_column_of_an_order_as_EF_Core_reads_it(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await DatabaseMigrator.MigrateAsync(database.ConnectionString, Ct);
        var full = new OrderRow
        {
            Id = 7,
            Exchange = "binfut",
            Symbol = "BTCUSDT",
            Type = "limit",
            Size = 12_345.678901234567m,
            SizeType = "n",
            Side = -1,
            ReduceOnly = true,
            Liquidated = true,
            PriceExpected = 64_999.123456789m,
            Strategy = "twap-ish ünïcode",
            Deadline = new DateTimeOffset(2026, 12, 2, 3, 4, 5, TimeSpan.FromHours(2)).AddTicks(1_234_560),
            TimeLimitMs = 86_400_000L * 40,
            DeadlineAction = "take",
            MinRepriceIntervalMs = 750,
            Status = OrderStatus.Working,
            StatusDetail = "queued: claimed",
            Venue = "sim in-process http://127.0.0.1:1/ 0f",
            Account = "key-0123456789ab",
            HeartbeatAt = new DateTimeOffset(2026, 12, 2, 1, 2, 3, TimeSpan.Zero).AddTicks(9_999_990),
            CreatedAt = new DateTimeOffset(2026, 12, 1, 23, 59, 59, TimeSpan.FromHours(-5)).AddTicks(10),
            StartedAt = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero),
            CompletedAt = new DateTimeOffset(2026, 12, 2, 0, 0, 1, TimeSpan.Zero),
            ArrivalMid = 0.00000001m,
            FilledQty = 0.123m,
            FilledNotional = 7_999.99999999m,
            AvgPrice = 65_000.05m,
            Fees = 1.23456789m,
            ChildOrders = 3,
            Modifies = 40_000,
            Cancels = 2,
            PostOnlyRejects = 1,
        };
        var sparse = new OrderRow { Id = 8, Symbol = "ETHUSDT", Size = 0.5m, Side = 1, Status = OrderStatus.Working, CreatedAt = DateTimeOffset.UnixEpoch };
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            db.Orders.AddRange(full, sparse);
            await db.SaveChangesAsync(Ct);
        }

        List<OrderRow> viaEf;
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            viaEf = await db.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
        }

        var plain = await PlainOrderRows.SelectAsync(database.ConnectionString, "status = @p0", [OrderStatus.Working], Ct);

        Assert.Equal(2, plain.Count);
        foreach (var property in typeof(OrderRow).GetProperties().Where(p => p.PropertyType.IsValueType || p.PropertyType == typeof(string)))
        {
            for (var i = 0; i < 2; i++)
            {
                Assert.True(Equals(property.GetValue(viaEf[i]), property.GetValue(plain[i])), $"order {viaEf[i].Id} {property.Name}: EF read {property.GetValue(viaEf[i])}, the plain read {property.GetValue(plain[i])}");
            }
        }

        // What the store hands recovery is built from those rows: the same order, field for field.
        var described = await new OrderStore(database.ConnectionString).GetAsync([8, 7, 7, 99], Ct);
        Assert.Equal([7L, 8L], described.Select(o => o.Id));
        Assert.Equal(OrderStore.Describe(viaEf[0]).Spec, described[0].Spec);
        Assert.Equal(viaEf[0].ArrivalMid, described[0].ArrivalMid);
        Assert.Equal(viaEf[0].HeartbeatAt, described[0].HeartbeatAt);
    }

    /// <summary>Counts the EF Core contexts initialised on one database while it lives (tests of other databases run beside it).</summary>
    private sealed class ContextsOn : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly string _connectionString;
        private readonly List<IDisposable> _subscriptions = [];
        private int _initialised;

        public ContextsOn(string connectionString)
        {
            _connectionString = connectionString;
            lock (_subscriptions)
            {
                _subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
            }
        }

        public int Initialised => Volatile.Read(ref _initialised);

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == DbLoggerCategory.Name)
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(value.Subscribe(this));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == CoreEventId.ContextInitialized.Name && value.Value is ContextInitializedEventData data
                && data.Context.Database.GetConnectionString() == _connectionString)
            {
                Interlocked.Increment(ref _initialised);
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            lock (_subscriptions)
            {
                _subscriptions.ForEach(s => s.Dispose());
            }
        }
    }
}
