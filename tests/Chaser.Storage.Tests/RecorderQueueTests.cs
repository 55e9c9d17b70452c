using System.Runtime.CompilerServices;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Tests.Shared;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage.Tests;

/// <summary>
/// The recorder's queue when the writer can't keep up: it grows (another, larger segment of values), the order's loop
/// is never blocked, and every write reaches the database once the writer can write, in the order it was queued.
/// </summary>
public class RecorderQueueTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 1, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_writer_held_off_the_database_loses_nothing_and_keeps_the_order_of_every_write()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using (var migrate = new ChaserDb(database.ConnectionString))
        {
            await DatabaseMigrator.MigrateAsync(migrate, Ct);
        }

        await using var recorder = new StorageRecorder(database.ConnectionString);
        recorder.OrderStarted(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), T0);
        await recorder.FlushAsync(Ct);

        // Another writer holds the database: the recorder's batch waits for it (and would be retried after the busy
        // timeout), while the order's loop goes on queueing far more than one batch (StorageRecorder.MaxBatch) and one segment.
        await using var holder = new SqliteConnection(database.ConnectionString);
        await holder.OpenAsync(Ct);
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        var writtenBefore = recorder.RowsWritten;
        const int frames = 40_000;
        const int Writes = frames + frames + (frames / 10);
        var modify = new ChaserCommand(ChaserCommandKind.Modify, "chs-abcdef-1-1", Side.Buy, ChildOrderType.PostOnly, 65_000m, 0.015m, FinishReason.None, new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest));
        var queueing = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 1; i <= frames; i++)
        {
            recorder.MachineInput(1, T0.AddTicks(i), ChaserInput.OfBook("BTCUSDT", new BookTop(60_000m + i, 1m, 60_001m + i, 1m, i, T0), i));
            recorder.Mid(new MidSample(1, 60_000m + i, 60_001m + i, T0, T0.AddTicks(i)));
            if (i % 10 == 0)
            {
                recorder.Decision(new DecisionRecord(1, T0.AddTicks(i), modify with { Price = 60_000m + i }, i));
            }
        }

        queueing.Stop();
        await Task.Delay(500, Ct);
        Assert.Equal(writtenBefore, recorder.RowsWritten);
        Assert.True(queueing.Elapsed < TimeSpan.FromSeconds(10), $"queueing {Writes} writes took {queueing.Elapsed}: the order's loop waited on the writer");
        await using (var commit = holder.CreateCommand())
        {
            commit.CommandText = "COMMIT";
            await commit.ExecuteNonQueryAsync(Ct);
        }

        await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(120), Ct);
        await using var db = new ChaserDb(database.ConnectionString);
        var inputs = await db.OrderInputs.Where(r => r.OrderId == 1).OrderBy(r => r.Id).Select(r => new { r.Payload }).ToListAsync(Ct);
        var mids = await db.Mids.Where(m => m.OrderId == 1).OrderBy(m => m.Id).Select(m => m.Bid).ToListAsync(Ct);
        var events = await db.Events.Where(e => e.OrderId == 1).OrderBy(e => e.Id).Select(e => e.Price).ToListAsync(Ct);

        Assert.Equal(frames, inputs.Count);
        Assert.Equal(Enumerable.Range(1, frames).Select(i => 60_000m + i), mids);
        Assert.Equal(Enumerable.Range(1, frames / 10).Select(i => (decimal?)(60_000m + (i * 10))), events);
        for (var i = 1; i <= frames; i++)
        {
            Assert.StartsWith((60_000m + i).ToString(System.Globalization.CultureInfo.InvariantCulture) + " ", inputs[i - 1].Payload, StringComparison.Ordinal);
        }

        var sizeOfWrite = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(typeof(StorageRecorder).GetNestedType("Write", System.Reflection.BindingFlags.NonPublic)!).Invoke(null, null)!;
        TestContext.Current.TestOutputHelper?.WriteLine($"{Writes} writes queued in {queueing.ElapsedMilliseconds} ms while the writer was held; one queued write is a {sizeOfWrite}-byte value");
    }
}
