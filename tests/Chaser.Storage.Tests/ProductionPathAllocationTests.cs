using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Storage.Tests;

/// <summary>
/// Bytes allocated per tick on the production path, end to end over the real classes: the connector's real sockets
/// (<c>ReconnectingWebSocket</c> → <c>MarketStream</c> → the engine's routing → the order's runner → <c>OrderHost</c>
/// recording into a real <see cref="StorageRecorder"/> on SQLite → the chaser → the cancel budget → the rate guard →
/// <c>WsApiOrderEntry</c> → <c>SendAsync</c>) and back (the answer → the connector → the runner → the host).
/// <para>
/// How it is counted: <see cref="GC.GetTotalAllocatedBytes(bool)"/> (precise) over a window of ticks, with everything
/// else in the process quiet, so every byte allocated in the window on any thread is the path's. That is honest
/// because nothing else runs then: the exchange's side is <see cref="LoopbackExchangeSockets"/> (frames written into
/// reused buffers; an idle window of the same length is measured beside and must show 0), the simulator only served
/// REST at start-up (its market is manual: it makes no frames), the engine's heartbeat is set to an hour, and the
/// recorder's background writer is held on a database lock the test takes for the window (it waits inside SQLite's
/// busy handler, allocating nothing; what it holds back is written after, and checked). Per-thread counters
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) would miss bytes: the path's continuations run on whichever
/// pool thread the socket completes on. The smallest of several windows is taken, as the JIT's tier-up and
/// on-stack replacement allocate once on the thread that runs a hot loop; code that allocates per tick allocates in
/// every window and still shows.
/// </para>
/// <para>
/// The windows count the whole process, so the test runs alone: its collection is not run in parallel with any other
/// (xunit runs such collections after the parallel ones).
/// </para>
/// </summary>
[Collection(nameof(ProductionPathAllocationTests))]
public class ProductionPathAllocationTests
{
    private const string Symbol = "BTCUSDT";
    private const decimal Tick = 0.1m;
    private const int TicksPerWindow = 100;
    private const int Windows = 8;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Off (the engine's default) and at serve's and execute's default (1 ms): the rehearsals run in the windows too, on
    // the timer's thread, so every byte of theirs is counted with the path's.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_book_top_that_re_prices_one_that_only_moves_the_mid_and_a_trade_allocate_nothing_from_frame_to_socket(int pathWarmMs)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            await DatabaseMigrator.MigrateAsync(db, Ct);
        }

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions
        {
            Source = MarketSourceKind.Manual,

            // The simulator serves REST at start-up only (exchangeInfo, the clock, the listen key, the first book); on a
            // clock that stands still its 25 ms housekeeping never runs, so it is quiet while the windows are counted.
            TimeProvider = new FakeTimeProvider(DateTimeOffset.UtcNow),

            // The account's order-rate limit (exchangeInfo, which the connector's guard takes) far above the test's
            // thousand-odd modifies a minute: the guard still counts every one, and never holds one back.
            RateLimits = new RateLimitOptions { OrdersPer10Seconds = 1_000_000, OrdersPerMinute = 1_000_000 },
        }, Ct);
        await using var exchange = LoopbackExchangeSockets.Start();
        var storage = new StorageRecorder(database.ConnectionString);
        var recorder = new CountingRecorder(storage);
        var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = simulator.RestBaseUrl,
            StreamBaseUrl = exchange.StreamBaseUrl,
            OrderEntryWebSocketUrl = exchange.WebSocketApiUrl,
            ApiKey = new ApiKey(simulator.ApiKey),
            Signer = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)),
        });
        var engine = new ExecutionEngine(connector, recorder, options: new EngineOptions
        {
            ClientIdTag = await storage.GetClientIdTagAsync(Ct),
            HeartbeatInterval = TimeSpan.FromHours(1),
            PathWarmInterval = TimeSpan.FromMilliseconds(pathWarmMs),

            // Every frame one tick better re-prices at once: no pacing, and the invalid-cancellation guard never holds
            // a modify back (its bookkeeping still runs for each).
            Chaser = new ChaserOptions { MinRepriceInterval = TimeSpan.Zero, InvalidCancelRatioMinOrders = int.MaxValue },
        });

        ExecutionResult result;
        var driver = new Driver(exchange, recorder);
        long[] reprices, mids, trades, idle;
        await using (var dbLock = new SqliteConnection(database.ConnectionString))
        {
            await dbLock.OpenAsync(Ct);
            await engine.ConnectAsync(Ct);
            var run = engine.ExecuteAsync(new ParentOrderSpec(1, Symbol, Side.Buy, SizeType.Notional, 1_000m), Ct);
            await driver.StartAsync(run);
            if (Environment.GetEnvironmentVariable("CHASER_ALLOC_TRACE") is not null)
            {
                using var sampler = new AllocationSampler();
                HoldWriter(dbLock, driver);
                sampler.Start();
                driver.MidOnlyWindow(20_000);
                Console.WriteLine($"mid-only ticks sampled: {sampler.Stop()}");
                sampler.Start();
                driver.RepriceWindow(3_000);
                Console.WriteLine($"re-pricing ticks sampled: {sampler.Stop()}");
                using var commit = dbLock.CreateCommand();
                commit.CommandText = "COMMIT";
                commit.ExecuteNonQuery();
            }

            (reprices, mids, trades, idle) = await Task.Factory.StartNew(
                () =>
                {
                    var reprice = new long[Windows];
                    var mid = new long[Windows];
                    var trade = new long[Windows];
                    var quiet = new long[Windows];
                    for (var w = 0; w < Windows; w++)
                    {
                        // The writer held on a lock for the windows: it has taken what was queued before and waits in
                        // SQLite's busy handler; what the windows queue stays queued.
                        HoldWriter(dbLock, driver);
                        var failedBefore = storage.FailedAttempts;
                        reprice[w] = driver.RepriceWindow(TicksPerWindow);
                        mid[w] = driver.MidOnlyWindow(TicksPerWindow);
                        trade[w] = driver.TradeWindow(TicksPerWindow);
                        quiet[w] = Driver.IdleWindow(TimeSpan.FromMilliseconds(100));
                        if (storage.FailedAttempts != failedBefore)
                        {
                            // The writer gave up waiting for the lock within the window (a slow machine): its retry
                            // allocated in the window, which then says nothing of the path.
                            reprice[w] = mid[w] = trade[w] = quiet[w] = long.MaxValue;
                        }

                        using var commit = dbLock.CreateCommand();
                        commit.CommandText = "COMMIT";
                        commit.ExecuteNonQuery();
                        storage.FlushAsync(Ct).GetAwaiter().GetResult();
                    }

                    return (reprice, mid, trade, quiet);
                },
                Ct,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);

            // With the warmer on, its rehearsals ran through the windows (else they would prove nothing of it); the
            // warmer is the engine's own internal part, read as the engine keeps it.
            var warmer = typeof(ExecutionEngine).GetField("_warmer", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(engine)!;
            var rehearsals = (long)warmer.GetType().GetProperty("Rehearsals")!.GetValue(warmer)!;
            Assert.True(pathWarmMs == 0 ? rehearsals == 0 : rehearsals > 0, $"{rehearsals} rehearsals with --path-warm {pathWarmMs} ms");
            engine.Cancel(1);
            result = await run.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        await engine.DisposeAsync();
        await storage.FlushAsync(Ct);
        await storage.DisposeAsync();

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"bytes per re-pricing tick (frame → modify on the socket → its answer handled), per window of {TicksPerWindow}: {string.Join(", ", reprices.Select(b => (b / (double)TicksPerWindow).ToString("0.0")))}");
        output?.WriteLine($"bytes per mid-only tick (frame → mid recorded, no request), per window: {string.Join(", ", mids.Select(b => (b / (double)TicksPerWindow).ToString("0.0")))}");
        output?.WriteLine($"bytes per trade (aggTrade frame → print and input recorded, no request), per window: {string.Join(", ", trades.Select(b => (b / (double)TicksPerWindow).ToString("0.0")))}");
        output?.WriteLine($"bytes in an idle 100 ms window (the background): {string.Join(", ", idle)}");
        Console.WriteLine($"re-price ticks: min {reprices.Min() / (double)TicksPerWindow:0.0} B/tick; mid-only ticks: min {mids.Min() / (double)TicksPerWindow:0.0} B/tick; trades: min {trades.Min() / (double)TicksPerWindow:0.0} B/trade; idle window min {idle.Min()} B");

        Assert.Equal(FinishReason.Canceled, result.Status);
        Assert.Contains(idle, b => b != long.MaxValue);
        Assert.Equal(0, idle.Min());
        Assert.True(reprices.Min() == 0, $"a re-pricing tick allocates {reprices.Min() / (double)TicksPerWindow:0.0} B (smallest of {Windows} windows of {TicksPerWindow})");
        Assert.True(mids.Min() == 0, $"a tick that only moves the mid allocates {mids.Min() / (double)TicksPerWindow:0.0} B (smallest of {Windows} windows of {TicksPerWindow})");
        Assert.True(trades.Min() == 0, $"a trade allocates {trades.Min() / (double)TicksPerWindow:0.0} B (smallest of {Windows} windows of {TicksPerWindow})");

        // Nothing the writer was held back from is lost: every modify, input and mid the windows recorded is stored.
        await using var check = new ChaserDb(database.ConnectionString);
        Assert.Equal(recorder.Decisions, await check.Events.CountAsync(e => e.OrderId == 1, Ct));
        Assert.Equal(recorder.Inputs, await check.OrderInputs.CountAsync(i => i.OrderId == 1 && i.Kind != OrderInputs.StartKind, Ct));
        Assert.Equal(recorder.Mids, await check.Mids.CountAsync(m => m.OrderId == 1, Ct));
        Assert.Equal(recorder.Trades, await check.MarketTrades.CountAsync(m => m.OrderId == 1, Ct));
        Assert.True(exchange.Modifies >= Windows * TicksPerWindow, $"{exchange.Modifies} modifies");
    }

    /// <summary>Takes the database's write lock once the writer is idle, then lets it start a batch and block on it.</summary>
    private static void HoldWriter(SqliteConnection dbLock, Driver driver)
    {
        using (var begin = dbLock.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        // One frame for the writer to wake on: it opens its connection and waits for the lock (allocating before the window).
        driver.MidOnlyWindow(1);
        Thread.Sleep(200);
    }

    /// <summary>Drives book tops one at a time, each waiting until its consequence has been handled.</summary>
    private sealed class Driver(LoopbackExchangeSockets exchange, CountingRecorder recorder)
    {
        private const decimal BaseBid = 60_000m;
        private long _updateId = 5_000_000_000;
        private decimal _bid = BaseBid;
        private long _aggTradeId = 9_000_000;
        private bool _wideAsk;

        public async Task StartAsync(Task<ExecutionResult> run)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!exchange.MarketConnected || recorder.Accepted == 0)
            {
                Assert.False(run.IsCompleted, $"the order ended before it was placed: {(run.IsCompletedSuccessfully ? run.Result.Detail : run.Exception?.ToString())}");
                Assert.True(DateTime.UtcNow < deadline, "the order was not placed and accepted within 30 s");
                if (exchange.MarketConnected)
                {
                    Push();
                }

                await Task.Delay(50);
            }

            // Warm the path (JIT tiers, pools, the channel's segment, the ring) before anything is counted.
            RepriceWindow(500);
            MidOnlyWindow(500);
            TradeWindow(500);
        }

        /// <summary>
        /// Bytes allocated in the process over <paramref name="ticks"/> frames, each one tick above the resting bid:
        /// the order is behind the best, re-priced by an order.modify, and the next frame waits for its answer.
        /// </summary>
        public long RepriceWindow(int ticks)
        {
            // The first tick outside the count: it may leave a wait that began before the window.
            _bid += Tick;
            var accepted = recorder.Accepted;
            Push();
            WaitFor(ref recorder.AcceptedCount, accepted + 1);
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < ticks; i++)
            {
                _bid += Tick;
                Push();
                WaitFor(ref recorder.AcceptedCount, accepted + 2 + i);
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        /// <summary>Bytes over <paramref name="ticks"/> frames whose ask alone moves: the mid changes, no request goes out.</summary>
        public long MidOnlyWindow(int ticks)
        {
            var books = recorder.Books;
            _wideAsk = !_wideAsk;
            Push();
            WaitFor(ref recorder.BookCount, books + 1);
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < ticks; i++)
            {
                _wideAsk = !_wideAsk;
                Push();
                WaitFor(ref recorder.BookCount, books + 2 + i);
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        /// <summary>Bytes over <paramref name="trades"/> aggTrade frames below the resting bid's level: recorded, no request.</summary>
        public long TradeWindow(int trades)
        {
            var seen = recorder.TradeInputs;
            PushTrade();
            WaitFor(ref recorder.TradeCount, seen + 1);
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < trades; i++)
            {
                PushTrade();
                WaitFor(ref recorder.TradeCount, seen + 2 + i);
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        /// <summary>Bytes allocated in the process while nothing is sent: the background the windows are counted against.</summary>
        public static long IdleWindow(TimeSpan length)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            Thread.Sleep(length);
            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        private void PushTrade() => exchange.PushTrade(Symbol, _bid + 5m, 0.01m, buyerIsMaker: false, ++_aggTradeId);

        private void Push()
        {
            var ask = _bid + (_wideAsk ? 10.1m : 10m);
            exchange.PushBook(Symbol, _bid, 5m, ask, 5m, ++_updateId);
        }

        private static void WaitFor(ref long counter, long target)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var spin = default(SpinWait);
            while (Volatile.Read(ref counter) < target)
            {
                if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException($"waited 10 s for {target}, at {Volatile.Read(ref counter)}");
                }

                spin.SpinOnce(sleep1Threshold: 20);
            }
        }
    }

    /// <summary>
    /// The storage recorder, with counts the driver waits on (an increment: nothing allocated). Everything is forwarded,
    /// the port's optional members included.
    /// </summary>
    private sealed class CountingRecorder(StorageRecorder inner) : IExecutionRecorder
    {
        public long AcceptedCount;
        public long BookCount;
        public long TradeCount;
        private long _trades;
        private long _inputs;
        private long _mids;
        private long _decisions;

        public StorageRecorder Inner => inner;

        public long Accepted => Volatile.Read(ref AcceptedCount);

        public long Books => Volatile.Read(ref BookCount);

        public long TradeInputs => Volatile.Read(ref TradeCount);

        public long Trades => Volatile.Read(ref _trades);

        public long Inputs => Volatile.Read(ref _inputs);

        public long Mids => Volatile.Read(ref _mids);

        public long Decisions => Volatile.Read(ref _decisions);

        public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time) => inner.OrderStarted(spec, time);

        public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time) => inner.ArrivalMid(parentId, mid, time);

        public void Mid(MidSample sample)
        {
            inner.Mid(sample);
            Interlocked.Increment(ref _mids);
        }

        public void MarketTrade(MarketTradeSample trade)
        {
            inner.MarketTrade(trade);
            Interlocked.Increment(ref _trades);
        }

        public void Decision(DecisionRecord decision)
        {
            inner.Decision(decision);
            Interlocked.Increment(ref _decisions);
        }

        public void MachineStarted(ReplayStart start) => inner.MachineStarted(start);

        public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
        {
            inner.MachineInput(parentId, time, input);
            Interlocked.Increment(ref _inputs);
            if (input.Kind == EventKind.Accepted)
            {
                Interlocked.Increment(ref AcceptedCount);
            }
            else if (input.Kind == EventKind.BookTop)
            {
                Interlocked.Increment(ref BookCount);
            }
            else if (input.Kind == EventKind.Trade)
            {
                Interlocked.Increment(ref TradeCount);
            }
        }

        public void Child(ChildOrderSnapshot child) => inner.Child(child);

        public void Fill(FillRecord fill) => inner.Fill(fill);

        public void OrderCompleted(ExecutionResult result) => inner.OrderCompleted(result);

        public void Alive(IReadOnlyCollection<long> parentIds, DateTimeOffset time) => inner.Alive(parentIds, time);

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ((IExecutionRecorder)inner).FlushAsync(cancellationToken);
    }
}

/// <summary>The allocation windows count every thread of the process: nothing else may run beside them.</summary>
[CollectionDefinition(nameof(ProductionPathAllocationTests), DisableParallelization = true)]
public sealed class QuietProcessCollection;

/// <summary>
/// With CHASER_ALLOC_TRACE set: the types the runtime's allocation sampling (one event per ~100 KB allocated) names
/// while a long window runs, to find what allocates. Not part of the assertion.
/// </summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, long> _types = [];
    private volatile bool _on;

    public void Start() => _on = true;

    public string Stop()
    {
        _on = false;
        lock (_types)
        {
            var text = string.Join("; ", _types.OrderByDescending(t => t.Value).Take(15).Select(t => $"{t.Key} ×{t.Value}"));
            _types.Clear();
            return text;
        }
    }

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs eventData)
    {
        if (!_on || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
        {
            return;
        }

        var index = eventData.PayloadNames.IndexOf("TypeName");
        var name = index >= 0 ? eventData.Payload?[index]?.ToString() ?? "?" : "?";
        lock (_types)
        {
            _types[name] = _types.GetValueOrDefault(name) + 1;
        }
    }
}
