using System.Collections.Concurrent;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Rules;

namespace Chaser.Engine;

/// <summary>Why a parent order can't be worked: the field at fault and the reason.</summary>
public sealed record OrderProblem(string Field, string Reason);

/// <summary>Engine-wide settings.</summary>
public sealed record EngineOptions
{
    public ChaserOptions Chaser { get; init; } = new();

    /// <summary>
    /// How long a graceful stop (<see cref="ExecutionEngine.StopAsync"/>) waits for canceled children to reach their
    /// final state before it gives up on them.
    /// </summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long the book keeps being sampled into a parent order's mids after it ended, so that markouts at +1, +10 and
    /// +60 s can be computed; zero turns it off. Only a host that keeps running records the whole tail.
    /// </summary>
    public TimeSpan MarkoutTail { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The exchange-side dead-man switch (Binance's countdownCancelAll), off when zero. While orders work on a symbol
    /// the countdown is armed before the first child is sent and renewed every quarter of it (Binance's example: 120 s,
    /// renewed every 30 s); when the last one ends it is disarmed. If this process dies, the exchange cancels the
    /// symbol's open orders when the countdown runs out — all of the account's orders on that symbol, not only ours.
    /// </summary>
    public TimeSpan DeadManCountdown { get; init; }

    /// <summary>
    /// The venue this engine works on (e.g. <c>live https://fapi.binance.com</c>): stamped on every stored order it
    /// claims, so that restart recovery reconciles an order only against the exchange it was sent to.
    /// </summary>
    public string Venue { get; init; } = "unnamed";

    /// <summary>The account on the venue: a fingerprint of the API key (never the key), stamped beside the venue.</summary>
    public string Account { get; init; } = "";

    /// <summary>
    /// The instance tag inside every client order id (<see cref="ClientOrderIds"/>); only events whose id carries it
    /// are taken for ours. A host with a database passes the database's tag (<c>ChaserDb.GetClientIdTagAsync</c>), so
    /// that a restarted process recognises its orders and two databases on one account never collide. Null: a fresh
    /// random tag for this engine.
    /// </summary>
    public string? ClientIdTag { get; init; }

    /// <summary>
    /// How often the engine tells its recorder which orders it still holds (<see cref="IExecutionRecorder.Alive"/>):
    /// the heartbeat that keeps another process's restart recovery off them.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often, while orders are working, the request path is rehearsed on a shadow order so that it stays in the
    /// caches (<see cref="PathWarmer"/>: nothing is sent or recorded); zero turns it off. A live host on a shared machine
    /// wants about a millisecond (it costs a few microseconds of CPU each time); off by default, and for any host whose
    /// clock is not the wall clock.
    /// </summary>
    public TimeSpan PathWarmInterval { get; init; }

    /// <summary>Problems the engine works around (a dead-man renewal that failed); never a secret.</summary>
    public Action<string>? Diagnostics { get; init; }
}

/// <summary>
/// Runs many parent orders at once on one account: one chaser per parent order on its own loop, market data fanned
/// out by symbol, user-stream events routed by client order id, one rate budget shared by all and one
/// invalid-cancellation budget per symbol (<see cref="SymbolCancelBudget"/>). The dead-man switch
/// (<see cref="DeadManSwitch"/>) and the markout tail after an order (<see cref="MarkoutTails"/>) are their own classes.
/// <para>
/// Queue policy: parent orders on the same symbol and side are worked one after another, in the order they were
/// submitted, so that two of our own orders never sit in the same queue bidding against each other (which would only
/// raise our price and double the cancel traffic). Orders on different symbols, or on opposite sides, run in
/// parallel; a post-only buy rests below the ask and a post-only sell above the bid, so they cannot trade with each
/// other.
/// </para>
/// </summary>
public sealed class ExecutionEngine : IExchangeEventSink, IAsyncDisposable
{
    private readonly IExchangeConnector _connector;
    private readonly IExecutionRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly EngineOptions _options;
    private readonly ConcurrentDictionary<long, ParentOrderRunner> _byParent = new();
    private readonly ConcurrentDictionary<string, ParentOrderRunner[]> _bySymbol = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SymbolSide, SameSideQueue> _queues = new();

    // A finished order stays reachable at least this long, markout tail or none, so that a fill the exchange reports
    // after the order's finish (the user stream can lag the REST answer that ended it) is still counted and recorded.
    private static readonly TimeSpan LateEventWindow = TimeSpan.FromSeconds(60);

    // Every parent id this engine holds (queued, working, or finished and not yet forgotten): an id is worked once. After
    // it is forgotten the store's claim (new -> working, once) is what keeps a host from handing it over again.
    private readonly ConcurrentDictionary<long, byte> _held = new();

    // Orders waiting for their turn (or for the connection, rules and subscription): a cancel ends the wait at once.
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _waiting = new();

    // Says every HeartbeatInterval which orders this engine still holds (the recorder keeps it as their heartbeat).
    private readonly ITimer _heartbeat;

    // Rehearses the request path while orders work, so a real request finds it in the caches.
    private readonly PathWarmer _warmer;

    // Orders not yet final (queued or working), each done when its ExecuteAsync returns: what a graceful stop awaits.
    private readonly ConcurrentDictionary<long, Task> _unfinished = new();

    // Per symbol for the engine's life: the invalid-cancellation budget its orders share (they get it as an input).
    private readonly ConcurrentDictionary<string, SymbolCancelBudget> _cancelBudgets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<SymbolRules>> _rules = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, byte> _userCanceled = new();

    // Set by a graceful stop: an order handed over afterwards (a request that claimed it as the host stopped) ends
    // canceled before anything is sent, instead of starting on a process that is about to exit.
    private volatile bool _stopping;

    // Finished parent orders stay reachable so that a fill arriving after the finish is still counted and recorded,
    // until their markout tail (and the late-event window) passed; then everything kept of them is dropped, so that a
    // long `serve` holds nothing per order it has done.
    private readonly ConcurrentDictionary<long, FinishedOrder> _finished = new();
    private readonly ConcurrentDictionary<string, LastBook> _lastBooks = new(StringComparer.Ordinal);
    private readonly Lock _routing = new();
    private Task? _connect;

    // Finished orders' books sampled for markouts; the exchange's countdown per symbol with working orders.
    private readonly MarkoutTails _markouts;
    private readonly DeadManSwitch _deadMan;
    private decimal _budget = 1m;

    public ExecutionEngine(IExchangeConnector connector, IExecutionRecorder? recorder = null, TimeProvider? time = null, EngineOptions? options = null)
    {
        _connector = connector ?? throw new ArgumentNullException(nameof(connector));
        _recorder = recorder ?? NullRecorder.Instance;
        _time = time ?? TimeProvider.System;
        _options = options ?? new EngineOptions();
        _options.Chaser.Validate();
        ClientIdTag = _options.ClientIdTag is { } tag ? ClientOrderIds.ValidateTag(tag, nameof(EngineOptions.ClientIdTag)) : ClientOrderIds.NewTag();
        _markouts = new MarkoutTails(_recorder, _time, _options.MarkoutTail);
        _deadMan = new DeadManSwitch(_connector, _options.DeadManCountdown, _time, _options.Diagnostics);
        _heartbeat = _time.CreateTimer(_ => OnHeartbeat(), null, _options.HeartbeatInterval, _options.HeartbeatInterval);
        _warmer = new PathWarmer(_connector, _options.Chaser, _options.PathWarmInterval, _time, _options.Diagnostics, LatestBook);
    }

    /// <summary>The instance tag in this engine's client order ids.</summary>
    public string ClientIdTag { get; }

    public TimeProvider Time => _time;

    public EngineOptions Options => _options;

    /// <summary>Where this engine records what it does (a storage recorder flushes it after a batch of orders).</summary>
    public IExecutionRecorder Recorder => _recorder;

    /// <summary>Progress of the parent orders currently working.</summary>
    public IReadOnlyDictionary<long, ExecutionProgress> Progress =>
        _byParent.ToDictionary(pair => pair.Key, pair => pair.Value.Progress);

    /// <summary>
    /// The parent orders waiting in a same-side queue for the orders in front of them to end (read-only, for progress
    /// displays: they are held and claimed, but nothing of theirs is on the exchange yet).
    /// </summary>
    public IReadOnlyDictionary<long, QueuedOrder> Queued =>
        _queues.Values.SelectMany(queue => queue.Waiting()).ToDictionary(w => w.ParentId, w => w.Place);

    /// <summary>Entries kept per parent order (or per symbol and side queue) in all of the engine's tables: diagnostics for tests.</summary>
    internal int PerOrderEntries =>
        _held.Count + _finished.Count + _unfinished.Count + _waiting.Count + _userCanceled.Count + _byParent.Count + _queues.Count + _markouts.Count;

    /// <summary>Connects once; concurrent first callers all wait for the same connection (a failed one is retried).</summary>
    public Task ConnectAsync(CancellationToken cancellationToken)
    {
        lock (_routing)
        {
            if (_connect is null || _connect.IsFaulted || _connect.IsCanceled)
            {
                _connect = _connector.ConnectAsync(this, cancellationToken);
            }

            return _connect;
        }
    }

    /// <summary>
    /// The symbol's rules, fetched once and shared. The fetch is not tied to the first caller's token (a cancel of
    /// that caller's order would leave a canceled fetch cached for every later order on the symbol); each caller stops
    /// waiting on its own token. A fetch that failed is dropped, so the next caller asks the venue again.
    /// </summary>
    public async Task<SymbolRules> GetRulesAsync(string symbol, CancellationToken cancellationToken)
    {
        var fetch = _rules.GetOrAdd(symbol, s => _connector.GetSymbolRulesAsync(s, CancellationToken.None));
        try
        {
            return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (fetch.IsFaulted || fetch.IsCanceled)
        {
            // Only this fetch: a newer one another caller started meanwhile stays.
            _rules.TryRemove(KeyValuePair.Create(symbol, fetch));
            throw;
        }
    }

    /// <summary>
    /// The latest sane book top of a symbol (subscribing to it first), or null when none arrived in time: the
    /// reference price for checking a parent order before it is worked.
    /// </summary>
    public async Task<BookTop?> WaitForBookAsync(string symbol, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await _connector.SubscribeAsync(symbol, cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        while (true)
        {
            if (LatestBook(symbol) is { IsSane: true } book)
            {
                return book;
            }

            if (_time.GetElapsedTime(started) >= timeout)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Checks a parent order against the exchange before anything is sent: "field: reason", or null when it can be worked.</summary>
    public async Task<string?> ValidateAsync(ParentOrderSpec spec, decimal referencePrice, CancellationToken cancellationToken) =>
        await CheckAsync(spec, referencePrice, cancellationToken).ConfigureAwait(false) is { } problem ? $"{problem.Field}: {problem.Reason}" : null;

    /// <summary>
    /// Checks a parent order against the exchange before anything is sent: the symbol is traded here, and (with a
    /// reference price) its size can be posted under the symbol's filters. Null when it can be worked.
    /// </summary>
    public async Task<OrderProblem?> CheckAsync(ParentOrderSpec spec, decimal referencePrice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.OnDeadline == DeadlineAction.TakeRemainder && spec.Deadline is null && spec.TimeLimit is null)
        {
            // Without a limit the moment never comes: the order would be worked as a plain chase, not as asked.
            return new OrderProblem("deadline_action", "taking the remainder needs a deadline or a time limit: it happens when one is reached");
        }

        if (spec.OnDeadline == DeadlineAction.TakeRemainder && spec.Deadline is { } deadline && deadline <= _time.GetUtcNow())
        {
            // Started now, it would skip the chase and take the whole order with one market order at once.
            return new OrderProblem("deadline", $"{deadline:O} has passed: taking the remainder now would take the whole order with a market order");
        }

        SymbolRules rules;
        try
        {
            rules = await GetRulesAsync(spec.Symbol, cancellationToken).ConfigureAwait(false);
        }
        catch (KeyNotFoundException)
        {
            return new OrderProblem("symbol", $"{spec.Symbol} is not traded on this exchange");
        }

        if (spec.SizeType == SizeType.Notional && !spec.ReduceOnly && spec.Size < rules.MinNotional)
        {
            return new OrderProblem("size", $"{spec.Size} USDT is below {spec.Symbol}'s MIN_NOTIONAL of {rules.MinNotional} USDT");
        }

        if (referencePrice <= 0)
        {
            return null;
        }

        var quantity = spec.SizeType == SizeType.Notional ? rules.QuantityForNotional(spec.Size, referencePrice) : rules.FloorQuantity(spec.Size);
        var check = rules.Check(referencePrice, quantity, spec.ReduceOnly);
        return check.IsValid ? null : new OrderProblem("size", $"{spec.Size} {(spec.SizeType == SizeType.Notional ? "USDT" : "base")} can't be posted on {spec.Symbol}: {check.Reason}");
    }

    /// <summary>
    /// Works one parent order to its end and returns its result; cancel it with <see cref="Cancel"/>. An id this engine
    /// already holds (queued, working, or finished and not yet forgotten: see <see cref="Holds"/>) is refused with
    /// <see cref="OrderAlreadyHeldException"/>: one parent order is worked once, and its client order ids are never
    /// reused. Beyond that the caller's store guards it (a stored order is claimed once). Anything that stops the order before it works
    /// (an unknown symbol, a failed snapshot request, a cancel while it waited in its queue) ends it as a result,
    /// failed or canceled with the reason, recorded like any other end: accepted work never vanishes.
    /// </summary>
    public async Task<ExecutionResult> ExecuteAsync(ParentOrderSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!_held.TryAdd(spec.Id, 0))
        {
            throw new OrderAlreadyHeldException(spec.Id);
        }

        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _unfinished[spec.Id] = finished.Task;

        // The place in the same-side queue is taken before the first await, so orders keep the order they came in. Under
        // the routing lock: a queue left empty is dropped under it too, and no order may join a dropped one.
        var side = new SymbolSide(spec.Symbol, spec.Side);
        SameSideQueue queue;
        SameSideQueue.Turn turn;
        lock (_routing)
        {
            queue = _queues.GetOrAdd(side, _ => new SameSideQueue());
            turn = queue.Join(spec.Id);
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _waiting[spec.Id] = waiting;
        try
        {
            if (_stopping || _userCanceled.ContainsKey(spec.Id))
            {
                await waiting.CancelAsync().ConfigureAwait(false);
            }

            SymbolRules rules;
            try
            {
                await ConnectAsync(waiting.Token).ConfigureAwait(false);
                rules = await GetRulesAsync(spec.Symbol, waiting.Token).ConfigureAwait(false);
                await _connector.SubscribeAsync(spec.Symbol, waiting.Token).ConfigureAwait(false);
                await turn.Ready.WaitAsync(waiting.Token).ConfigureAwait(false);

                // A completed step does not look at its token: a cancel (or a stop) that came meanwhile is taken here.
                waiting.Token.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException) when (waiting.IsCancellationRequested)
            {
                return EndedBeforeStart(spec, FinishReason.Canceled, CanceledBeforeStart);
            }
            catch (KeyNotFoundException)
            {
                return EndedBeforeStart(spec, FinishReason.Failed, $"symbol {spec.Symbol} is not traded on this exchange");
            }
            catch (Exception e)
            {
                // Whatever the venue threw (HttpClient's own timeout is a TaskCanceledException nobody asked for, a
                // malformed answer a JsonException): the order ends failed with the reason, never thrown out unrecorded.
                return EndedBeforeStart(spec, FinishReason.Failed, $"could not start: {e.Message}");
            }
            finally
            {
                _waiting.TryRemove(spec.Id, out _);
            }

            // A time limit counts from here, when the order starts working, not from when it was queued.
            var started = spec with { Deadline = spec.DeadlineFrom(_time.GetUtcNow()) };
            return await RunAsync(started, rules, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            turn.Leave();
            lock (_routing)
            {
                if (queue.IsEmpty)
                {
                    _queues.TryRemove(KeyValuePair.Create(side, queue));
                }
            }

            // An order that ended before it worked has no runner, but its id is held (and maybe canceled) until forgotten.
            _finished.TryAdd(spec.Id, new FinishedOrder(null, ForgetAt()));
            _unfinished.TryRemove(spec.Id, out _);
            finished.TrySetResult();
        }
    }

    /// <summary>
    /// A graceful stop (SIGTERM, Ctrl-C, shutdown): every order not yet final is canceled, queued ones at once and
    /// working ones by canceling their child and awaiting its final state; an order given to the engine afterwards ends
    /// canceled before it starts. Returns the ids still not final when <paramref name="timeout"/> (by default
    /// <see cref="EngineOptions.StopTimeout"/>) ran out (empty when all ended).
    /// </summary>
    public async Task<IReadOnlyList<long>> StopAsync(TimeSpan? timeout = null)
    {
        var patience = timeout ?? _options.StopTimeout;
        // Before the orders are listed: one joining meanwhile either is listed or sees the flag (it checks after joining).
        _stopping = true;
        foreach (var id in _unfinished.Keys)
        {
            Cancel(id);
        }

        try
        {
            await Task.WhenAll(_unfinished.Values).WaitAsync(patience, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _options.Diagnostics?.Invoke($"stop: {_unfinished.Count} order(s) not final after {patience.TotalSeconds:0} s");
        }

        return [.. _unfinished.Keys.Order()];
    }

    private async Task<ExecutionResult> RunAsync(ParentOrderSpec spec, SymbolRules rules, CancellationToken cancellationToken)
    {
        var cancelBudget = CancelBudgetOf(spec.Symbol);
        using var runner = new ParentOrderRunner(spec, rules, _options.Chaser, cancelBudget, _connector, _recorder, _time, ClientIdTag);
        _byParent[spec.Id] = runner;
        AddRoute(runner);
        cancelBudget.Join(allowed => runner.Post(ChaserInput.OfCancelBudget(allowed).ReceivedAt(_time.GetTimestamp())));
        var deadManHeld = false;
        var ran = false;
        try
        {
            // Armed before the first child is sent: no order of ours rests without the exchange's safety net.
            await _deadMan.HoldAsync(spec.Symbol, cancellationToken).ConfigureAwait(false);
            deadManHeld = true;

            // The book may have arrived before this order was routed: start from the latest one.
            var latest = LatestBook(spec.Symbol);
            if (latest is { } book)
            {
                runner.Post(ChaserInput.OfBook(spec.Symbol, book, _time.GetTimestamp()));
            }

            ran = true;
            _warmer.OrderStarted(spec.Symbol, rules, latest);
            var run = runner.RunAsync(_budget);
            if (_userCanceled.ContainsKey(spec.Id))
            {
                runner.Post(ChaserInput.UserCancel.ReceivedAt(_time.GetTimestamp()));
            }

            using (cancellationToken.Register(() => runner.Post(ChaserInput.UserCancel.ReceivedAt(_time.GetTimestamp()))))
            {
                return await run.ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!ran && e is not OperationCanceledException)
        {
            // The dead-man switch could not be armed: nothing was sent, and the order says why it did not run.
            return EndedBeforeStart(spec, FinishReason.Failed, $"could not arm the dead-man switch: {e.Message}");
        }
        catch (OperationCanceledException) when (!ran)
        {
            return EndedBeforeStart(spec, FinishReason.Canceled, CanceledBeforeStart);
        }
        finally
        {
            if (ran)
            {
                _warmer.OrderEnded();
            }

            RemoveRoute(runner);
            _finished[spec.Id] = new FinishedOrder(runner, ForgetAt());
            _byParent.TryRemove(spec.Id, out _);
            if (ran)
            {
                _markouts.Start(spec.Id, spec.Symbol, LatestBook(spec.Symbol), runner.Progress.Mid);
            }

            if (deadManHeld)
            {
                _deadMan.Release(spec.Symbol);
            }
        }
    }

    private string CanceledBeforeStart => _stopping ? "canceled before it started working: the engine is stopping" : "canceled before it started working";

    /// <summary>The end of an order that never sent anything: recorded like any other end, with the reason.</summary>
    private ExecutionResult EndedBeforeStart(ParentOrderSpec spec, FinishReason status, string detail)
    {
        var now = _time.GetUtcNow();
        var result = new ExecutionResult { Spec = spec, Status = status, Detail = detail, StartedAt = now, CompletedAt = now };
        _recorder.OrderCompleted(result);
        return result;
    }

    /// <summary>Works many parent orders concurrently; returns when every one is final, results in input order.</summary>
    public Task<ExecutionResult[]> ExecuteAllAsync(IEnumerable<ParentOrderSpec> specs, CancellationToken cancellationToken = default) =>
        Task.WhenAll(specs.Select(spec => ExecuteAsync(spec, cancellationToken)));

    /// <summary>Asks a parent order to stop: its child is canceled, then it finishes as canceled (or filled).</summary>
    public void Cancel(long parentId)
    {
        _userCanceled.TryAdd(parentId, 0);
        if (_waiting.TryGetValue(parentId, out var waiting))
        {
            try
            {
                waiting.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It stopped waiting meanwhile; the runner below, or the flag it checks when it starts, takes the cancel.
            }
        }

        if (_byParent.TryGetValue(parentId, out var runner))
        {
            runner.Post(ChaserInput.UserCancel.ReceivedAt(_time.GetTimestamp()));
        }
    }

    /// <summary>
    /// Whether this engine holds the parent order: queued, working, or finished less than its markout tail (and at
    /// least a minute, for late fills) ago. Then it is forgotten, so that a long-running engine keeps nothing per order.
    /// </summary>
    public bool Holds(long parentId) => _held.ContainsKey(parentId);

    public async ValueTask DisposeAsync()
    {
        await _heartbeat.DisposeAsync().ConfigureAwait(false);
        _warmer.Dispose();
        foreach (var budget in _cancelBudgets.Values)
        {
            budget.Dispose();
        }

        try
        {
            _markouts.CloseAll();

            // Disarming is what stops the exchange from canceling the account's other orders later: let it land.
            await _deadMan.DisarmsLanded(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _options.Diagnostics?.Invoke("dead-man switch: disarming did not finish within 10 s; the exchange may still cancel the symbol's open orders when its countdown ends");
        }
        finally
        {
            await _connector.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The connector's one way in: market data goes to the orders working its symbol, order events to the order their
    /// client id names, connectivity and the rate budget to every order they concern.
    /// </summary>
    void IExchangeEventSink.OnInput(in ChaserInput received)
    {
        // An order event or notice its producer did not stamp (no socket read made it) arrives now; a price frame
        // without a stamp stays unmeasured rather than measured from here.
        var input = received.ReceivedTimestamp != 0 || received.IsPriceFrame ? received : received.ReceivedAt(_time.GetTimestamp());
        switch (input.Kind)
        {
            case EventKind.BookTop:
                OnBook(input);
                break;
            case EventKind.Depth or EventKind.Trade:
                ToSymbol(input.Symbol!, input);
                break;
            case EventKind.ConnectivityLost or EventKind.ConnectivityRestored:
                foreach (var runner in _byParent.Values)
                {
                    if (input.Scope == ConnectionScope.OrderEntry || input.Symbol is null || string.Equals(runner.Spec.Symbol, input.Symbol, StringComparison.Ordinal))
                    {
                        runner.Post(input);
                    }
                }

                break;
            case EventKind.RateBudget:
                _budget = input.Budget;
                foreach (var runner in _byParent.Values)
                {
                    // Queued, never handled here: a connector reports the budget under its own lock (so that its
                    // reports keep their order), and an order's refused request reports again from inside this one.
                    runner.PostQueued(input);
                }

                break;
            default:
                if (input.ClientOrderId is { } clientOrderId)
                {
                    Route(clientOrderId, input);
                }

                break;
        }
    }

    private void OnBook(in ChaserInput input)
    {
        var symbol = input.Symbol!;
        if (!_lastBooks.GetOrAdd(symbol, _ => new LastBook()).SetIfNotOlder(input.Book))
        {
            return;
        }

        ToSymbol(symbol, input);

        // After the working orders have the book: sampling for finished ones must not delay a live decision.
        _markouts.Sample(symbol, input.Book);
    }

    private void ToSymbol(string symbol, in ChaserInput input)
    {
        if (_bySymbol.TryGetValue(symbol, out var runners))
        {
            foreach (var runner in runners)
            {
                runner.Post(input);
            }
        }
    }

    /// <summary>The symbol's invalid-cancellation budget: one per symbol for the engine's life, its changes delivered to the symbol's orders.</summary>
    private SymbolCancelBudget CancelBudgetOf(string symbol)
    {
        if (_cancelBudgets.TryGetValue(symbol, out var budget))
        {
            return budget;
        }

        // Created under the lock: a budget that lost a race would leave its timer behind.
        lock (_routing)
        {
            return _cancelBudgets.GetOrAdd(symbol, s => new SymbolCancelBudget(_options.Chaser, _time, allowed => PublishCancelBudget(s, allowed)));
        }
    }

    private void PublishCancelBudget(string symbol, bool youngCancelsAllowed)
    {
        if (_bySymbol.TryGetValue(symbol, out var runners))
        {
            var item = ChaserInput.OfCancelBudget(youngCancelsAllowed).ReceivedAt(_time.GetTimestamp());
            foreach (var runner in runners)
            {
                // Queued, never handled here: this runs under the budget's lock, which an order's request takes again.
                runner.PostQueued(item);
            }
        }
    }

    private void OnHeartbeat()
    {
        SayAlive();
        ForgetFinished();
    }

    /// <summary>When a finished order is forgotten: after its markout tail, and never before late events stop mattering.</summary>
    private DateTimeOffset ForgetAt() => _time.GetUtcNow() + (_options.MarkoutTail > LateEventWindow ? _options.MarkoutTail : LateEventWindow);

    /// <summary>
    /// Drops everything kept of the orders whose time is up, and closes markout tails that ran out even if no book of
    /// their symbol came to close them (a feed that went quiet).
    /// </summary>
    private void ForgetFinished()
    {
        _markouts.CloseExpired();
        var now = _time.GetUtcNow();
        foreach (var (id, order) in _finished)
        {
            if (now >= order.ForgetAt && _finished.TryRemove(KeyValuePair.Create(id, order)))
            {
                _userCanceled.TryRemove(id, out _);
                _held.TryRemove(id, out _);
            }
        }
    }

    private void SayAlive()
    {
        if (!_unfinished.IsEmpty)
        {
            _recorder.Alive([.. _unfinished.Keys], _time.GetUtcNow());
        }
    }

    private void Route(string clientOrderId, in ChaserInput item)
    {
        // Only ids with our tag: another database or process on the account may use the same parent ids.
        if (!ClientOrderIds.IsOurs(clientOrderId, ClientIdTag, out var parentId))
        {
            return;
        }

        if (_byParent.TryGetValue(parentId, out var runner) || (_finished.TryGetValue(parentId, out var done) && (runner = done.Runner) is not null))
        {
            runner.Post(item);
        }
        else if (item.Kind == EventKind.Fill)
        {
            // Not ours to count any more (forgotten, or a previous process's): never dropped without a word.
            _options.Diagnostics?.Invoke($"fill {item.Fill.TradeId} of {clientOrderId} ({item.Fill.Quantity} at {item.Fill.Price}) is for order {parentId}, which this engine does not hold (finished and forgotten, or another process's): not counted or recorded");
        }
    }

    /// <summary>The latest book of a symbol, null before one arrived.</summary>
    private BookTop? LatestBook(string symbol) =>
        _lastBooks.TryGetValue(symbol, out var last) && last.TryGet(out var book) ? book : null;

    private void AddRoute(ParentOrderRunner runner)
    {
        lock (_routing)
        {
            var current = _bySymbol.GetValueOrDefault(runner.Spec.Symbol, []);
            _bySymbol[runner.Spec.Symbol] = [.. current, runner];
        }
    }

    private void RemoveRoute(ParentOrderRunner runner)
    {
        lock (_routing)
        {
            var current = _bySymbol.GetValueOrDefault(runner.Spec.Symbol, []);
            _bySymbol[runner.Spec.Symbol] = current.Where(r => !ReferenceEquals(r, runner)).ToArray();
        }
    }

    /// <summary>A parent order that ended (its runner, null when it never worked) and when it is forgotten.</summary>
    private sealed record FinishedOrder(ParentOrderRunner? Runner, DateTimeOffset ForgetAt);

    /// <summary>The latest book of a symbol, updated in place (no allocation per frame).</summary>
    private sealed class LastBook
    {
        private readonly Lock _lock = new();
        private BookTop _book;
        private bool _set;

        /// <summary>
        /// Keeps the book unless it is older than the one held (a REST snapshot overtaken by the stream): a lower
        /// update id that is not newer in exchange time either. Returns whether it was kept.
        /// </summary>
        public bool SetIfNotOlder(in BookTop book)
        {
            lock (_lock)
            {
                if (_set && book.UpdateId < _book.UpdateId && book.ExchangeTime <= _book.ExchangeTime)
                {
                    return false;
                }

                _book = book;
                _set = true;
                return true;
            }
        }

        public bool TryGet(out BookTop book)
        {
            lock (_lock)
            {
                book = _book;
                return _set;
            }
        }
    }
}
