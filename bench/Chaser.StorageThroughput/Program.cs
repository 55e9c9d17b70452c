using System.Diagnostics;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Storage;

// Write throughput of the storage recorder: N parent orders, each with R fills, R mids and R decisions, written
// through the background writer (binary COPY on PostgreSQL, batched inserts on SQLite), timed from the first
// enqueue to the flush that confirms everything is committed.
// Usage: dotnet run -c Release --project bench/Chaser.StorageThroughput -- "<connection string>" [orders] [rowsPerKind]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Chaser.StorageThroughput <connection string of an empty, migratable database> [orders=100] [rowsPerKind=1000]");
    return 2;
}

var connectionString = args[0];
var orders = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100;
var rows = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_000;
await using (var db = new ChaserDb(connectionString))
{
    await DatabaseMigrator.MigrateAsync(db);
}

var t0 = DateTimeOffset.UtcNow;
var cause = new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest);
await using var recorder = new StorageRecorder(connectionString);
var clock = Stopwatch.StartNew();
var baseId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000;
for (var o = 0; o < orders; o++)
{
    var id = baseId + o;
    var spec = new ParentOrderSpec(id, "BTCUSDT", Side.Buy, SizeType.Quantity, rows * 0.001m);
    recorder.OrderStarted(spec, t0);
    for (var i = 0; i < rows; i++)
    {
        var time = t0.AddMilliseconds(i);
        recorder.Fill(new FillRecord(id, $"chs-{id}-1", i, 65_000.1m + (i * 0.1m), 0.001m, 0.013m, "USDT", true, time, time));
        recorder.Mid(new MidSample(id, 65_000m + i, 65_000.1m + i, time, time));
        recorder.Decision(new DecisionRecord(id, time, new ChaserCommand(ChaserCommandKind.Modify, $"chs-{id}-1", Side.Buy, ChildOrderType.PostOnly, 65_000.1m, 0.5m, FinishReason.None, cause), 42.0));
    }

    recorder.OrderCompleted(new ExecutionResult { Spec = spec, Status = FinishReason.Filled, FilledQuantity = rows * 0.001m, StartedAt = t0, CompletedAt = t0.AddSeconds(1) });
}

var enqueued = clock.Elapsed;
await recorder.FlushAsync();
var total = clock.Elapsed;
var dataRows = (long)orders * rows * 3;
Console.WriteLine($"{ChaserDb.ProviderOf(connectionString)}: {dataRows:N0} fill/mid/event rows (+{orders * 2:N0} order writes) in {total.TotalSeconds:0.00} s " +
    $"= {dataRows / total.TotalSeconds:N0} rows/s; enqueueing took {enqueued.TotalMilliseconds:N0} ms; {recorder.BatchesWritten:N0} batches; {recorder.FailedAttempts} failed attempts");
return 0;
