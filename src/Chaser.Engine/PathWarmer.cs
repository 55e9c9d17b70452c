using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Rules;

namespace Chaser.Engine;

/// <summary>
/// Keeps the request path warm between real requests. A chaser sends a few requests a second at most, and on a shared
/// machine the code and data of a path that ran 10 ms ago are out of the caches, the TLB and the branch predictors by
/// the time the next frame needs them: the same frame → decision → frame-on-the-socket path takes about 2 µs back to
/// back and 35–45 µs after 10 ms without it (<c>bench/README.md</c>, "the cold path"). So every interval, while orders
/// are working, a shadow order — a real <see cref="ChaserStateMachine"/> on the rules of a symbol being worked, with
/// the engine's chaser options, in a real <see cref="OrderHost"/> behind a real <see cref="CancelBudgetedGateway"/> on
/// a cancel budget of its own — is re-priced by a book one tick away and its request rehearsed through
/// <see cref="IOrderGateway.Rehearse"/>: the rate guard asked and the exchange frame built as a real one would be,
/// then dropped. Nothing is sent, recorded or counted, no real order's or symbol's state is touched, and the shadow's client order
/// ids never leave this class. Rehearsals allocate nothing; the shadow is made anew when its symbol changes and every
/// <see cref="BooksPerShadow"/> rehearsals.
/// </summary>
internal sealed class PathWarmer : IDisposable
{
    // The shadow's own clock: each book a step after the last, past every re-price interval and young-cancel window, so
    // each rehearsal is a real re-price, as in the hot-path benchmark.
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(6);
    private static readonly DateTimeOffset Epoch = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
    // The shadow's bid climbs a tick a book, so it is made anew (from the real bid) after this many; a few KB every 10 s at 1 ms.
    internal const int BooksPerShadow = 10_000;
    private const int ChildrenPerShadow = 16;

    private readonly IOrderGateway _gateway;
    private readonly ChaserOptions _options;
    private readonly TimeSpan _interval;
    private readonly ITimer? _timer;
    private readonly Action<string>? _diagnostics;
    private readonly Func<string, BookTop?>? _latestBook;
    private readonly Lock _working = new();
    private int _workingOrders;
    private int _rehearsing;
    private Target? _target;
    // An order that started before its symbol had a sane book: its symbol is rehearsed on once one has come.
    private Awaited? _awaited;
    private Shadow? _shadow;
    private volatile bool _broken;
    private bool _disposed;

    // latestBook: the latest book of a symbol (null before one came), where an order that started before its first
    // book finds the price to rehearse at.
    public PathWarmer(IOrderGateway gateway, ChaserOptions options, TimeSpan interval, TimeProvider time, Action<string>? diagnostics = null, Func<string, BookTop?>? latestBook = null)
    {
        _gateway = gateway;
        _diagnostics = diagnostics;
        _latestBook = latestBook;
        _options = options;
        _interval = interval;
        if (interval > TimeSpan.Zero)
        {
            _timer = time.CreateTimer(static warmer => ((PathWarmer)warmer!).Rehearse(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>How many rehearsals ran (each one decision and, when it decided a request, that request rehearsed).</summary>
    public long Rehearsals { get; private set; }

    /// <summary>An order started working on this symbol: rehearse on it (from its book), and run while any order works.</summary>
    public void OrderStarted(string symbol, SymbolRules rules, BookTop? book)
    {
        if (_timer is null)
        {
            return;
        }

        if (book is { IsSane: true } top)
        {
            Volatile.Write(ref _awaited, null);
            Volatile.Write(ref _target, new Target(symbol, rules, top.Bid));
        }
        else
        {
            Volatile.Write(ref _awaited, new Awaited(symbol, rules));
        }

        lock (_working)
        {
            if (++_workingOrders == 1 && !_broken && !_disposed)
            {
                _timer.Change(_interval, _interval);
            }
        }
    }

    /// <summary>An order stopped working: when none is left the rehearsals stop too.</summary>
    public void OrderEnded()
    {
        if (_timer is null)
        {
            return;
        }

        lock (_working)
        {
            if (--_workingOrders == 0 && !_disposed)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>One rehearsal: the shadow's next re-price decided and its request rehearsed. Skipped while one still runs, and once disposed.</summary>
    internal void Rehearse()
    {
        // Disposing holds this flag for good: a timer callback already on its way when the engine was disposed finds it
        // taken and never reaches a connector being disposed.
        if (_broken || Interlocked.Exchange(ref _rehearsing, 1) == 1)
        {
            return;
        }

        try
        {
            if (Volatile.Read(ref _awaited) is { } awaited && _latestBook?.Invoke(awaited.Symbol) is { IsSane: true } arrived
                && Interlocked.CompareExchange(ref _awaited, null, awaited) == awaited)
            {
                Volatile.Write(ref _target, new Target(awaited.Symbol, awaited.Rules, arrived.Bid));
            }

            if (Volatile.Read(ref _target) is not { } target)
            {
                return;
            }

            var shadow = _shadow;
            if (shadow is null || !ReferenceEquals(shadow.Target, target) || shadow.Books >= shadow.Length || shadow.Machine.Children.Count > ChildrenPerShadow || shadow.Machine.Status != ParentStatus.Working)
            {
                shadow?.Dispose();
                _shadow = shadow = new Shadow(target, _options, _gateway);
                if (shadow.Length == 0)
                {
                    // A bid at the symbol's highest price leaves no room to climb: nothing to rehearse on it.
                    Volatile.Write(ref _target, null);
                    return;
                }
            }

            shadow.Next();
            Rehearsals++;
        }
        catch (Exception e)
        {
            // A rehearsal is never worth an order: whatever went wrong, it stops for good and the engine works on cold.
            lock (_working)
            {
                _broken = true;
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            _diagnostics?.Invoke($"path warmer stopped: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Volatile.Write(ref _rehearsing, 0);
        }
    }

    /// <summary>Stops the rehearsals, waiting out one that runs (microseconds): none runs once this returns, so the connector can go.</summary>
    public void Dispose()
    {
        lock (_working)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timer?.Dispose();
        }

        var wait = new SpinWait();
        while (Interlocked.CompareExchange(ref _rehearsing, 1, 0) != 0)
        {
            wait.SpinOnce();
        }

        _shadow?.Dispose();
        _shadow = null;
    }

    private sealed record Target(string Symbol, SymbolRules Rules, decimal Bid);

    private sealed record Awaited(string Symbol, SymbolRules Rules);

    /// <summary>
    /// A buy that is never filled, worked by a real <see cref="OrderHost"/> through a real
    /// <see cref="CancelBudgetedGateway"/> on a budget of its own, the best bid a tick higher each book (as in the
    /// hot-path benchmark) so that every book re-prices it. Its requests reach the connector's
    /// <see cref="IOrderGateway.Rehearse"/> and come back refused, so its budget takes each one back at once.
    /// </summary>
    private sealed class Shadow : IDisposable
    {
        private readonly ShadowClock _clock = new();
        private readonly Rehearsal _rehearsal;
        private readonly SymbolCancelBudget _budget;
        private readonly OrderHost _host;
        private readonly List<ChaserCommand> _accepting = new(4);

        public Shadow(Target target, ChaserOptions options, IOrderGateway gateway)
        {
            Target = target;
            // Ten times the least postable size at the book's price: a real size, never reached (nothing fills).
            var notional = Math.Max(target.Rules.MinNotional, target.Rules.MinQty * target.Bid) * 10;
            Machine = new ChaserStateMachine(new ParentOrderSpec(long.MaxValue, target.Symbol, Side.Buy, SizeType.Notional, notional), target.Rules, options, "warmer");
            _rehearsal = new Rehearsal(gateway);
            _budget = new SymbolCancelBudget(options, _clock, static _ => { });
            _host = new OrderHost(Machine, new CancelBudgetedGateway(_rehearsal, _budget), NullRecorder.Instance, _clock);
            _host.Start(initialBudget: 1m);
            // No maxPrice (0) is no ceiling; under one, the climb stops a tick short of it.
            Length = target.Rules.MaxPrice <= 0 ? BooksPerShadow : (long)Math.Clamp(((target.Rules.MaxPrice - target.Bid) / target.Rules.TickSize) - 1, 0, BooksPerShadow);
        }

        public Target Target { get; }

        public ChaserStateMachine Machine { get; }

        /// <summary>How many books it gets: <see cref="BooksPerShadow"/>, fewer when the symbol's highest price comes first.</summary>
        public long Length { get; }

        public long Books { get; private set; }

        public void Next()
        {
            _clock.Step(Step);
            var tick = Target.Rules.TickSize;
            var bid = Target.Bid + (Books * tick);
            var now = _clock.GetUtcNow();
            _rehearsal.Rehearsed.Clear();
            _host.Handle(ChaserInput.OfBook(Target.Symbol, new BookTop(bid, 1m, bid + tick, 1m, ++Books, now), _clock.GetTimestamp()));

            // Accepted as asked, so that the next book re-prices a resting child (read out first: accepting adds more).
            _accepting.Clear();
            _accepting.AddRange(_rehearsal.Rehearsed);
            foreach (var command in _accepting)
            {
                if (command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify)
                {
                    _host.Handle(ChaserInput.OfAccepted(new OrderAccepted(command.ClientOrderId, 1, command.Price, command.Quantity, command.Kind == ChaserCommandKind.Modify, now, now)));
                }
            }
        }

        public void Dispose() => _budget.Dispose();
    }

    /// <summary>Hands each request to the connector's rehearsal, never to its Submit, and says it was not sent.</summary>
    private sealed class Rehearsal(IOrderGateway gateway) : IOrderGateway
    {
        public List<ChaserCommand> Rehearsed { get; } = new(4);

        public Submission Submit(in OrderRequest request)
        {
            gateway.Rehearse(request);
            Rehearsed.Add(request.Command);
            return Submission.Refused;
        }
    }

    /// <summary>The shadow's wall clock, a step ahead each book (past every re-price interval and young-cancel window); its timestamps are real.</summary>
    private sealed class ShadowClock : TimeProvider
    {
        private DateTimeOffset _now = Epoch;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Step(TimeSpan step) => _now += step;
    }
}
