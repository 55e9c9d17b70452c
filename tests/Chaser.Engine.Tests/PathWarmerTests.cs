using Chaser.Core.Chasing;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>
/// The path warmer rehearses a shadow order's re-prices through the gateway while orders work: every rehearsal a real
/// request of the symbol's rules handed to <see cref="IOrderGateway.Rehearse"/>, never to Submit; none while nothing
/// works; a fault stops it for good without reaching the caller.
/// </summary>
public class PathWarmerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly BookTop Book = new(65_000.0m, 1m, 65_000.1m, 1m, 1, T0);

    [Fact]
    public void Each_rehearsal_is_a_re_price_on_the_symbols_grid_rehearsed_and_never_submitted()
    {
        var time = new FakeTimeProvider(T0);
        var gateway = new Gateway();
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);

        for (var i = 0; i < 1_000; i++)
        {
            warmer.Rehearse();
        }

        Assert.Equal(1_000, warmer.Rehearsals);
        Assert.Equal(0, gateway.Submitted);
        // The first book places the shadow's child, every one after re-prices it: a modify a tick up, from the real bid.
        Assert.Equal(1_000, gateway.Rehearsed.Count);
        Assert.Equal(ChaserCommandKind.Place, gateway.Rehearsed[0].Command.Kind);
        Assert.All(gateway.Rehearsed.Skip(1), r => Assert.Equal(ChaserCommandKind.Modify, r.Command.Kind));
        Assert.Equal([65_000.0m, 65_000.1m, 65_000.2m], gateway.Rehearsed.Take(3).Select(r => r.Command.Price));
        Assert.All(gateway.Rehearsed, r =>
        {
            Assert.Equal("BTCUSDT", r.Symbol);
            Assert.Same(ExecutionEngineTests.Btc, r.Rules);
            Assert.Equal(0m, r.Command.Price % ExecutionEngineTests.Btc.TickSize);
            Assert.True(ExecutionEngineTests.Btc.Check(r.Command.Price, r.Command.Quantity, reduceOnly: false).IsValid);
        });
    }

    [Fact]
    public void An_order_that_starts_before_its_first_book_is_rehearsed_on_once_the_book_comes()
    {
        var time = new FakeTimeProvider(T0);
        var gateway = new Gateway();
        BookTop? latest = null;
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time, latestBook: _ => latest);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, book: null);

        warmer.Rehearse();
        Assert.Equal(0, warmer.Rehearsals);

        // An insane book is no price to start from either.
        latest = new BookTop(65_000.1m, 1m, 65_000.0m, 1m, 1, T0);
        warmer.Rehearse();
        Assert.Equal(0, warmer.Rehearsals);

        latest = Book;
        warmer.Rehearse();
        warmer.Rehearse();
        Assert.Equal(2, warmer.Rehearsals);
        Assert.Equal([65_000.0m, 65_000.1m], gateway.Rehearsed.Select(r => r.Command.Price));
        Assert.All(gateway.Rehearsed, r => Assert.Equal("BTCUSDT", r.Symbol));
    }

    [Fact]
    public void On_doge_like_rules_and_near_a_symbols_highest_price_every_rehearsed_request_is_one_the_rules_allow()
    {
        // DOGEUSDT's filters: a tick worth more than a lot step, a whole-coin step; its highest price 30 ticks above
        // the book, so the climb stops short of it and starts again from the real bid.
        var doge = new Chaser.Core.Rules.SymbolRules
        {
            Symbol = "DOGEUSDT",
            TickSize = 0.00001m,
            MinPrice = 0.00244m,
            MaxPrice = 0.10030m,
            StepSize = 1m,
            MinQty = 1m,
            MaxQty = 50_000_000m,
            MinNotional = 5m,
        };
        var time = new FakeTimeProvider(T0);
        var reported = new List<string>();
        var gateway = new Gateway();
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time, reported.Add);
        warmer.OrderStarted("DOGEUSDT", doge, new BookTop(0.10000m, 1_000m, 0.10001m, 1_000m, 1, T0));

        for (var i = 0; i < 100; i++)
        {
            warmer.Rehearse();
        }

        Assert.Empty(reported);
        Assert.Equal(100, warmer.Rehearsals);
        Assert.NotEmpty(gateway.Rehearsed);
        Assert.All(gateway.Rehearsed, r =>
        {
            Assert.True(r.Command.Price < doge.MaxPrice, $"{r.Command.Price}");
            Assert.True(doge.Check(r.Command.Price, r.Command.Quantity, reduceOnly: false).IsValid, $"{r.Command.Kind} {r.Command.Quantity}@{r.Command.Price}");
        });

        // At its highest price there is no room to climb: nothing is rehearsed, nothing reported.
        gateway.Rehearsed.Clear();
        warmer.OrderStarted("DOGEUSDT", doge, new BookTop(0.10029m, 1_000m, 0.10030m, 1_000m, 2, T0));
        warmer.Rehearse();
        warmer.Rehearse();
        Assert.Empty(gateway.Rehearsed);
        Assert.Empty(reported);
    }

    [Fact]
    public async Task Orders_starting_and_ending_at_once_on_many_threads_leave_it_running_exactly_while_one_works()
    {
        var time = new FakeTimeProvider(T0);
        var gateway = new Gateway { Keep = false };
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        var ct = TestContext.Current.CancellationToken;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(
            () =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, i % 2 == 0 ? Book : null);
                    warmer.OrderEnded();
                }
            },
            ct)));

        // One still works: it runs.
        var before = warmer.Rehearsals;
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(before + 5, warmer.Rehearsals);

        // None works: it stops.
        warmer.OrderEnded();
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(before + 5, warmer.Rehearsals);
    }

    [Fact]
    public void It_runs_on_its_timer_only_while_an_order_works()
    {
        var time = new FakeTimeProvider(T0);
        var gateway = new Gateway();
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time);

        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(0, warmer.Rehearsals);

        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        for (var i = 0; i < 50; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(50, warmer.Rehearsals);

        warmer.OrderEnded();
        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(60, warmer.Rehearsals);

        warmer.OrderEnded();
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(60, warmer.Rehearsals);
        Assert.Equal(0, gateway.Submitted);
    }

    [Fact]
    public void A_fault_in_a_rehearsal_stops_the_warmer_and_is_reported_not_thrown()
    {
        var time = new FakeTimeProvider(T0);
        var reported = new List<string>();
        var gateway = new Gateway { Fault = new InvalidOperationException("frame buffer gone") };
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time, reported.Add);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);

        time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.Equal(1, gateway.Attempts);
        Assert.Equal("path warmer stopped: InvalidOperationException: frame buffer gone", Assert.Single(reported));
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(1, gateway.Attempts);
    }

    [Fact]
    public void Steady_rehearsals_allocate_nothing()
    {
        var time = new FakeTimeProvider(T0);
        var gateway = new Gateway { Keep = false };
        using var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromMilliseconds(1), time);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        // A shadow's first books tier the code up; the rest of its life is measured (a new shadow is made after it).
        for (var i = 0; i < PathWarmer.BooksPerShadow / 2; i++)
        {
            warmer.Rehearse();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < (PathWarmer.BooksPerShadow / 2) - 1; i++)
        {
            warmer.Rehearse();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(PathWarmer.BooksPerShadow - 1, gateway.Attempts);
    }

    [Fact]
    public async Task Disposed_while_a_rehearsal_runs_it_neither_throws_nor_reports_and_orders_ending_after_are_quiet()
    {
        // The production timer (a disposed one throws on Change) and a rehearsal caught inside the connector while the
        // engine disposes: what a stop that timed out on a working order, or a shutdown mid-rehearsal, does.
        var reported = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var gateway = new Gateway { Entered = entered, Release = release };
        var warmer = new PathWarmer(gateway, new ChaserOptions(), TimeSpan.FromSeconds(1), TimeProvider.System, reported.Enqueue);
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        var cancel = TestContext.Current.CancellationToken;
        var rehearsal = Task.Run(warmer.Rehearse, cancel);
        Assert.True(entered.Wait(TimeSpan.FromSeconds(10), cancel));

        var disposing = Task.Run(warmer.Dispose, cancel);
        // Disposing may wait for the rehearsal to end, never the other way round.
        await Task.WhenAny(disposing, Task.Delay(200, cancel));
        release.Set();
        await rehearsal;
        await disposing;

        // Orders still working when the engine was disposed end (or start) afterwards: nothing to stop, nothing thrown.
        warmer.OrderEnded();
        warmer.OrderStarted("BTCUSDT", ExecutionEngineTests.Btc, Book);
        warmer.OrderEnded();
        warmer.Rehearse();
        warmer.Dispose();

        Assert.Empty(reported);
        Assert.Equal(1, gateway.Attempts);
    }

    private sealed class Gateway : IOrderGateway
    {
        public List<OrderRequest> Rehearsed { get; } = [];

        public bool Keep { get; init; } = true;

        public Exception? Fault { get; init; }

        /// <summary>Set when a rehearsal reaches the gateway; the rehearsal then waits for <see cref="Release"/>.</summary>
        public ManualResetEventSlim? Entered { get; init; }

        public ManualResetEventSlim? Release { get; init; }

        public int Attempts { get; private set; }

        public int Submitted { get; private set; }

        public Submission Submit(in OrderRequest request)
        {
            Submitted++;
            return Submission.Refused;
        }

        public void Rehearse(in OrderRequest request)
        {
            Attempts++;
            Entered?.Set();
            Release?.Wait();
            if (Fault is not null)
            {
                throw Fault;
            }

            if (Keep)
            {
                Rehearsed.Add(request);
            }
        }
    }
}
