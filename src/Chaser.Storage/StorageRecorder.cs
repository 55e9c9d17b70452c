using System.Data.Common;
using System.Threading.Channels;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Chaser.Storage;

/// <summary>
/// Records everything the engine does into the database, off the hot path: each call only queues a snapshot on an
/// unbounded channel (it never blocks and never loses a write), and one background writer drains the queue in
/// batches, each batch in one transaction — on PostgreSQL with binary COPY for fills, mids, market trades and events. When the
/// database is unreachable the batch is kept and retried with backoff while new writes keep queueing; fills are keyed
/// by (order, trade id), so a fill reported twice (stream and userTrades) is stored once.
/// </summary>
public sealed class StorageRecorder : IExecutionRecorder, IAsyncDisposable
{
    /// <summary>The most writes one batch (one transaction) takes from the queue.</summary>
    public const int MaxBatch = 5_000;

    /// <summary>What the writer sets on each SQLite connection it opens.</summary>
    public const string SqlitePragmas = "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=2000;";

    private readonly string _connectionString;
    private readonly DatabaseProvider _provider;
    private readonly Action<string>? _diagnostics;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly CancellationTokenSource _closing = new();
    private long _enqueued;
    private long _settled;
    private long _rowsWritten;
    private long _batchesWritten;
    private long _failedAttempts;

    // The writer's own: decisions queued so far per order that is working (see InputRows).
    private readonly Dictionary<long, int> _decisionsSoFar = [];

    public StorageRecorder(string? connectionString = null, Action<string>? diagnostics = null)
    {
        var text = string.IsNullOrWhiteSpace(connectionString) ? ChaserDb.DefaultSqlite : connectionString;
        _provider = ChaserDb.ProviderOf(text);
        _connectionString = ChaserDb.Normalize(text, _provider);
        _diagnostics = diagnostics;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The instance tag of the database this recorder writes to (<see cref="ChaserDb.GetClientIdTagAsync"/>).</summary>
    public async Task<string> GetClientIdTagAsync(CancellationToken cancellationToken = default)
    {
        await using var db = new ChaserDb(_connectionString);
        return await db.GetClientIdTagAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rows written so far (orders updates, children, fills, mids, events).</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    public long BatchesWritten => Interlocked.Read(ref _batchesWritten);

    /// <summary>Batch attempts that failed and were retried (a database outage shows here, not as lost rows).</summary>
    public long FailedAttempts => Interlocked.Read(ref _failedAttempts);

    public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time) => Enqueue(new OrderStartedWrite(spec, time));

    public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time) => Enqueue(new ArrivalMidWrite(parentId, mid));

    public void Mid(MidSample sample) => Enqueue(new MidWrite(sample));

    public void MarketTrade(MarketTradeSample trade) => Enqueue(new MarketTradeWrite(trade));

    public void Decision(DecisionRecord decision) => Enqueue(new EventWrite(decision));

    public void MachineStarted(ReplayStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        Enqueue(new StartInputWrite(start));
    }

    public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
    {
        // Book tops and trades arrive many a second: queue only their own fields (one small object, as a mid sample),
        // and leave the text of every payload to the background writer.
        switch (input.Kind)
        {
            case EventKind.BookTop:
                var book = input.Book;
                Enqueue(new BookInputWrite(parentId, time.UtcTicks, book.Bid, book.BidQty, book.Ask, book.AskQty, book.UpdateId, book.ExchangeTime.UtcTicks));
                break;
            case EventKind.Trade:
                Enqueue(new TradeInputWrite(parentId, time, input.Trade));
                break;
            case EventKind.Depth when input.Depth is { } depth:
                Enqueue(new DepthInputWrite(parentId, time, depth));
                break;
            default:
                Enqueue(new InputWrite(parentId, time, input));
                break;
        }
    }

    public void Child(ChildOrderSnapshot child)
    {
        ArgumentNullException.ThrowIfNull(child);
        Enqueue(new ChildWrite(child));
    }

    public void Fill(FillRecord fill) => Enqueue(new FillWrite(fill));

    public void OrderCompleted(ExecutionResult result) => Enqueue(new OrderCompletedWrite(result));

    public void Alive(IReadOnlyCollection<long> parentIds, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(parentIds);
        foreach (var id in parentIds)
        {
            Enqueue(new AliveWrite(id, time));
        }
    }

    /// <summary>Returns once everything queued before the call is in the database.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var marker = new FlushMarker();
        Enqueue(marker);
        return marker.Done.Task.WaitAsync(cancellationToken);
    }

    ValueTask IExecutionRecorder.FlushAsync(CancellationToken cancellationToken) => new(FlushAsync(cancellationToken));

    /// <summary>How long closing waits for queued writes to reach the database before giving up loudly.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Writes what is queued, then stops; if the database stays unreachable, fails after <see cref="CloseTimeout"/> saying so.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_closing.IsCancellationRequested)
        {
            return; // given up already, and said so, by a flush that ran out of time
        }

        try
        {
            await _writer.WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw GiveUp(CloseTimeout);
        }
    }

    /// <summary>
    /// The last flush of a run: what is queued reaches the database within <paramref name="timeout"/>, or the
    /// recorder gives the queued writes up (it stops retrying, so nothing holds the process) and says how many.
    /// </summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        try
        {
            await FlushAsync().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _queue.Writer.TryComplete();
            throw GiveUp(timeout);
        }
    }

    private StorageUnreachableException GiveUp(TimeSpan waited)
    {
        _closing.Cancel();
        return new StorageUnreachableException($"storage: {Interlocked.Read(ref _enqueued) - Interlocked.Read(ref _settled)} queued write(s) could not reach the database within {waited.TotalSeconds:0} s; the exchange remains the record of what was filled");
    }

    private void Enqueue(Write write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            if (_closing.IsCancellationRequested && write is not FlushMarker)
            {
                // Given up on an unreachable database, and said so: what still arrives while the run winds down (a
                // markout's last mid) is lost with the rest, not a crash of the shutdown that reports it.
                return;
            }

            throw new InvalidOperationException("the recorder is closed");
        }

        if (write is not FlushMarker)
        {
            Interlocked.Increment(ref _enqueued); // a flush marker is not a write: the counts say how many rows wait
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Write>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            // Once per batch, not per attempt: the count of decisions before each input goes on with the queue.
            var inputs = InputRows(batch);

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var rows = await WriteBatchAsync(batch, inputs).ConfigureAwait(false);
                    Interlocked.Add(ref _rowsWritten, rows);
                    Interlocked.Increment(ref _batchesWritten);
                    break;
                }
                catch (Exception e)
                {
                    // Whatever went wrong (an outage, a dropped connection, a timeout), the rows are kept and retried;
                    // the writer must never die with writes queued behind it.
                    // Keep the batch and try again: an outage delays writes, it never drops them.
                    Interlocked.Increment(ref _failedAttempts);
                    var delay = TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * Math.Pow(2, Math.Min(attempt, 6))));
                    _diagnostics?.Invoke($"storage: batch of {batch.Count} not written ({e.GetType().Name}: {e.Message}); retrying in {delay.TotalMilliseconds:0} ms");
                    try
                    {
                        await Task.Delay(delay, _closing.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return; // closing gave up on an unreachable database
                    }
                }
            }

            foreach (var marker in batch.OfType<FlushMarker>())
            {
                marker.Done.TrySetResult();
            }

            Interlocked.Add(ref _settled, batch.Count(w => w is not FlushMarker));
            batch.Clear();
        }
    }

    /// <summary>
    /// The batch's <c>order_inputs</c> rows, each with the number of its order's decisions queued before it: the queue
    /// keeps each order's calls in the order they were made, so counting here tells a replay which decisions followed
    /// which input without the order's loop counting anything.
    /// </summary>
    private List<OrderInputRow> InputRows(List<Write> batch)
    {
        var rows = new List<OrderInputRow>();
        foreach (var write in batch)
        {
            switch (write)
            {
                case StartInputWrite start:
                    _decisionsSoFar[start.Start.Spec.Id] = 0;
                    rows.Add(start.ToRow(0));
                    break;
                case MachineInputWrite input:
                    rows.Add(input.ToRow(_decisionsSoFar.GetValueOrDefault(input.ParentId)));
                    break;
                case EventWrite decision when _decisionsSoFar.TryGetValue(decision.Decision.ParentId, out var count):
                    _decisionsSoFar[decision.Decision.ParentId] = count + 1;
                    break;
                case OrderCompletedWrite completed:
                    _decisionsSoFar.Remove(completed.Result.Spec.Id);
                    break;
                default:
                    break;
            }
        }

        return rows;
    }

    private async Task<long> WriteBatchAsync(List<Write> batch, List<OrderInputRow> inputs)
    {
        var data = batch.Where(w => w is not FlushMarker).ToList();
        if (data.Count == 0)
        {
            return 0;
        }

        await using var connection = Open();
        await connection.OpenAsync().ConfigureAwait(false);
        if (_provider == DatabaseProvider.Sqlite)
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = SqlitePragmas;
            await pragma.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        long rows = 0;

        // Parent rows first (the others reference them), completions last.
        foreach (var write in data)
        {
            rows += write switch
            {
                OrderStartedWrite started => await ExecuteAsync(connection, transaction, UpsertStartedSql, StartedParameters(started)).ConfigureAwait(false),
                ArrivalMidWrite arrival => await ExecuteAsync(connection, transaction, "UPDATE orders SET arrival_mid = @mid WHERE id = @id", [("@mid", Money(arrival.Mid)), ("@id", arrival.ParentId)]).ConfigureAwait(false),
                AliveWrite alive => await ExecuteAsync(connection, transaction, "UPDATE orders SET heartbeat_at = @time WHERE id = @id AND status = 'working'", [("@time", Time(alive.Time)), ("@id", alive.ParentId)]).ConfigureAwait(false),
                _ => 0,
            };
        }

        foreach (var child in data.OfType<ChildWrite>())
        {
            rows += await ExecuteAsync(connection, transaction, UpsertChildSql, ChildParameters(child.Child)).ConfigureAwait(false);
        }

        var fills = data.OfType<FillWrite>().Select(f => f.Fill).ToList();
        var mids = data.OfType<MidWrite>().Select(m => m.Sample).ToList();
        var events = data.OfType<EventWrite>().Select(e => e.Decision).ToList();
        var trades = data.OfType<MarketTradeWrite>().Select(t => t.Trade).ToList();
        if (connection is NpgsqlConnection npgsql)
        {
            rows += await CopyMarketTradesAsync(npgsql, trades).ConfigureAwait(false);
            rows += await CopyFillsAsync(npgsql, fills).ConfigureAwait(false);
            rows += await CopyMidsAsync(npgsql, mids).ConfigureAwait(false);
            rows += await CopyEventsAsync(npgsql, events).ConfigureAwait(false);
            rows += await CopyInputsAsync(npgsql, inputs).ConfigureAwait(false);
        }
        else
        {
            foreach (var fill in fills)
            {
                rows += await ExecuteAsync(connection, transaction, InsertFillSql, FillParameters(fill)).ConfigureAwait(false);
            }

            foreach (var mid in mids)
            {
                rows += await ExecuteAsync(connection, transaction, InsertMidSql, MidParameters(mid)).ConfigureAwait(false);
            }

            foreach (var decision in events)
            {
                rows += await ExecuteAsync(connection, transaction, InsertEventSql, EventParameters(decision)).ConfigureAwait(false);
            }

            foreach (var trade in trades)
            {
                rows += await ExecuteAsync(connection, transaction, InsertMarketTradeSql, MarketTradeParameters(trade)).ConfigureAwait(false);
            }

            rows += await InsertInputsAsync(connection, transaction, inputs).ConfigureAwait(false);
        }

        foreach (var completed in data.OfType<OrderCompletedWrite>())
        {
            rows += await ExecuteAsync(connection, transaction, CompletedSql, CompletedParameters(completed.Result)).ConfigureAwait(false);
        }

        await transaction.CommitAsync().ConfigureAwait(false);
        return rows;
    }

    private DbConnection Open() => _provider == DatabaseProvider.PostgreSql
        ? new NpgsqlConnection(_connectionString)
        : new SqliteConnection(_connectionString);

    // ------------------------------------------------------------------ SQL (the same text serves both providers)

    private const string UpsertStartedSql = """
        INSERT INTO orders (id, exchange, symbol, type, size, size_type, side, reduce_only, price_expected, strategy, deadline, deadline_action, time_limit_ms, min_reprice_interval_ms, status, created_at, started_at)
        VALUES (@id, 'binfut', @symbol, 'limit', @size, @size_type, @side, @reduce_only, @price_expected, @strategy, @deadline, @deadline_action, @time_limit_ms, @min_reprice_interval_ms, 'working', @time, @time)
        ON CONFLICT (id) DO UPDATE SET status = 'working', status_detail = NULL, started_at = excluded.started_at
        WHERE orders.status IN ('new', 'working')
        """;

    private const string UpsertChildSql = """
        INSERT INTO child_orders (order_id, client_order_id, exchange_order_id, sequence, type, price, qty, status, filled_qty, modifies, sent_at, acked_at, done_at, updated_at)
        VALUES (@order_id, @client_order_id, @exchange_order_id, @sequence, @type, @price, @qty, @status, @filled_qty, @modifies, @sent_at, @acked_at, @done_at, @updated_at)
        ON CONFLICT (client_order_id) DO UPDATE SET
            exchange_order_id = CASE WHEN excluded.exchange_order_id <> 0 THEN excluded.exchange_order_id ELSE child_orders.exchange_order_id END,
            modifies = excluded.modifies,
            price = excluded.price, qty = excluded.qty, status = excluded.status, filled_qty = excluded.filled_qty,
            acked_at = COALESCE(child_orders.acked_at, excluded.acked_at),
            done_at = COALESCE(child_orders.done_at, excluded.done_at),
            updated_at = excluded.updated_at
        """;

    private const string InsertFillSql = """
        INSERT INTO fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time)
        VALUES (@order_id, @client_order_id, @trade_id, @price, @qty, @fee, @fee_asset, @is_maker, @exchange_time, @received_time)
        ON CONFLICT (order_id, trade_id) DO NOTHING
        """;

    private const string InsertMidSql = """
        INSERT INTO mids (order_id, bid, ask, mid, exchange_time, received_time)
        VALUES (@order_id, @bid, @ask, @mid, @exchange_time, @received_time)
        """;

    private const string InsertMarketTradeSql = """
        INSERT INTO market_trades (order_id, price, qty, buyer_is_maker, exchange_time, received_time)
        VALUES (@order_id, @price, @qty, @buyer_is_maker, @exchange_time, @received_time)
        """;

    private const string InsertEventSql = """
        INSERT INTO events (order_id, time, kind, client_order_id, price, qty, trigger, rule, finish_reason, detail, tick_to_order_us)
        VALUES (@order_id, @time, @kind, @client_order_id, @price, @qty, @trigger, @rule, @finish_reason, @detail, @tick_to_order_us)
        """;

    private const string CompletedSql = """
        UPDATE orders SET status = @status, status_detail = @detail, completed_at = @completed_at, started_at = COALESCE(started_at, @started_at),
            arrival_mid = @arrival_mid, filled_qty = @filled_qty, filled_notional = @filled_notional, avg_price = @avg_price, fees = @fees,
            child_orders = @child_orders, modifies = @modifies, cancels = @cancels, post_only_rejects = @post_only_rejects
        WHERE id = @id
        """;

    private (string, object?)[] StartedParameters(OrderStartedWrite started) =>
    [
        ("@id", started.Spec.Id),
        ("@symbol", started.Spec.Symbol),
        ("@size", Money(started.Spec.Size)),
        ("@size_type", started.Spec.SizeType == SizeType.Notional ? "n" : "q"),
        ("@side", started.Spec.Side.Sign()),
        ("@reduce_only", started.Spec.ReduceOnly),
        ("@price_expected", Money(started.Spec.PriceExpected)),
        ("@strategy", started.Spec.Strategy),
        ("@deadline", Time(started.Spec.Deadline)),
        ("@deadline_action", started.Spec.OnDeadline == DeadlineAction.TakeRemainder ? "take" : "cancel"),
        // Rounded up: a limit under a millisecond is still positive, as the column's CHECK requires (a refused row would hold the batch).
        ("@time_limit_ms", started.Spec.TimeLimit is { } limit ? (long)Math.Ceiling(limit.TotalMilliseconds) : null),
        ("@min_reprice_interval_ms", OrderQueries.ToIntervalMs(started.Spec.MinRepriceInterval)),
        ("@time", Time(started.Time)),
    ];

    private (string, object?)[] ChildParameters(ChildOrderSnapshot child)
    {
        var final = child.State == ChildState.Final;
        return
        [
            ("@order_id", child.ParentId),
            ("@client_order_id", child.ClientOrderId),
            ("@exchange_order_id", child.ExchangeOrderId),
            ("@sequence", child.Sequence),
            ("@type", child.OrderType == ChildOrderType.Market ? "market" : "post_only"),
            ("@price", Money(child.Price)),
            ("@qty", Money(child.Quantity)),
            ("@status", StatusOf(child)),
            ("@filled_qty", Money(child.FilledQuantity)),

            // The chaser's own count: a modify accepted and followed at once by the next is never seen resting.
            ("@modifies", child.Modifies),
            ("@sent_at", Time(child.SentAt)),
            ("@acked_at", child.ExchangeOrderId != 0 ? Time(child.Time) : null),
            ("@done_at", final ? Time(child.Time) : null),
            ("@updated_at", Time(child.Time)),
        ];
    }

    private static string StatusOf(ChildOrderSnapshot child) => child.State switch
    {
        ChildState.Final when child.FilledQuantity >= child.Quantity && child.Quantity > 0 => "filled",
        ChildState.Final when child.ExchangeOrderId == 0 && child.FilledQuantity == 0 => "rejected",
        ChildState.Final => "closed",
        _ => ChaserDb.SnakeCase(child.State.ToString()),
    };

    private (string, object?)[] FillParameters(FillRecord fill) =>
    [
        ("@order_id", fill.ParentId),
        ("@client_order_id", fill.ClientOrderId),
        ("@trade_id", fill.TradeId),
        ("@price", Money(fill.Price)),
        ("@qty", Money(fill.Quantity)),
        ("@fee", Money(fill.Fee)),
        ("@fee_asset", fill.FeeAsset),
        ("@is_maker", fill.IsMaker),
        ("@exchange_time", Time(fill.ExchangeTime)),
        ("@received_time", Time(fill.ReceivedAt)),
    ];

    private (string, object?)[] MidParameters(MidSample mid) =>
    [
        ("@order_id", mid.ParentId),
        ("@bid", Money(mid.Bid)),
        ("@ask", Money(mid.Ask)),
        ("@mid", Money(mid.Mid)),
        ("@exchange_time", Time(mid.ExchangeTime)),
        ("@received_time", Time(mid.ReceivedAt)),
    ];

    private (string, object?)[] MarketTradeParameters(MarketTradeSample trade) =>
    [
        ("@order_id", trade.ParentId),
        ("@price", Money(trade.Price)),
        ("@qty", Money(trade.Quantity)),
        ("@buyer_is_maker", trade.BuyerIsMaker),
        ("@exchange_time", Time(trade.ExchangeTime)),
        ("@received_time", Time(trade.ReceivedAt)),
    ];

    private (string, object?)[] EventParameters(DecisionRecord decision)
    {
        var command = decision.Command;
        var isFinish = command.Kind == ChaserCommandKind.Finish;
        return
        [
            ("@order_id", decision.ParentId),
            ("@time", Time(decision.Time)),
            ("@kind", ChaserDb.SnakeCase(command.Kind.ToString())),
            ("@client_order_id", isFinish ? null : command.ClientOrderId),
            ("@price", isFinish || command.Kind is ChaserCommandKind.Cancel or ChaserCommandKind.Query ? null : Money(command.Price)),
            ("@qty", isFinish || command.Kind is ChaserCommandKind.Cancel or ChaserCommandKind.Query ? null : Money(command.Quantity)),
            ("@trigger", ChaserDb.SnakeCase(command.Cause.Trigger.ToString())),
            ("@rule", ChaserDb.SnakeCase(command.Cause.Rule.ToString())),
            ("@finish_reason", isFinish ? command.FinishReason.ToString().ToLowerInvariant() : null),
            ("@detail", command.Detail),
            ("@tick_to_order_us", decision.TickToOrderMicroseconds),
        ];
    }

    private (string, object?)[] CompletedParameters(ExecutionResult result) =>
    [
        ("@id", result.Spec.Id),
        ("@status", result.Status switch
        {
            FinishReason.Filled => OrderStatus.Filled,
            FinishReason.Canceled => OrderStatus.Canceled,
            FinishReason.Expired => OrderStatus.Expired,
            _ => OrderStatus.Failed,
        }),
        ("@detail", result.Detail),
        ("@completed_at", Time(result.CompletedAt)),
        ("@started_at", Time(result.StartedAt)),
        ("@arrival_mid", Money(result.ArrivalMid)),
        ("@filled_qty", Money(result.FilledQuantity)),
        ("@filled_notional", Money(result.FilledNotional)),
        ("@avg_price", Money(result.AveragePrice)),
        ("@fees", Money(result.Fees)),
        ("@child_orders", result.ChildOrders),
        ("@modifies", result.Modifies),
        ("@cancels", result.Cancels),
        ("@post_only_rejects", result.PostOnlyRejects),
    ];

    private object Money(decimal value) => _provider == DatabaseProvider.PostgreSql ? value : ChaserDb.ToStoredText(value);

    private object? Time(DateTimeOffset? time) => time is { } t
        ? _provider == DatabaseProvider.PostgreSql ? new DateTimeOffset(ChaserDb.ToStoredTicks(t), TimeSpan.Zero) : ChaserDb.ToStoredTicks(t)
        : null;

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;

        // A statement stuck behind a lock or a dead server fails soon and the whole batch is retried.
        command.CommandTimeout = 10;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ PostgreSQL binary COPY

    private static async Task<long> CopyFillsAsync(NpgsqlConnection connection, List<FillRecord> fills)
    {
        if (fills.Count == 0)
        {
            return 0;
        }

        // COPY can't skip duplicates, so fills land in a temporary table and move over with ON CONFLICT DO NOTHING.
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE IF NOT EXISTS fills_incoming (order_id bigint, client_order_id text, trade_id bigint, price numeric, qty numeric, " +
            "fee numeric, fee_asset text, is_maker boolean, exchange_time timestamptz, received_time timestamptz) ON COMMIT DELETE ROWS", connection))
        {
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY fills_incoming (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false))
        {
            foreach (var fill in fills)
            {
                await copy.StartRowAsync().ConfigureAwait(false);
                await copy.WriteAsync(fill.ParentId, NpgsqlDbType.Bigint).ConfigureAwait(false);
                await copy.WriteAsync(fill.ClientOrderId, NpgsqlDbType.Text).ConfigureAwait(false);
                await copy.WriteAsync(fill.TradeId, NpgsqlDbType.Bigint).ConfigureAwait(false);
                await copy.WriteAsync(fill.Price, NpgsqlDbType.Numeric).ConfigureAwait(false);
                await copy.WriteAsync(fill.Quantity, NpgsqlDbType.Numeric).ConfigureAwait(false);
                await copy.WriteAsync(fill.Fee, NpgsqlDbType.Numeric).ConfigureAwait(false);
                await WriteNullableAsync(copy, fill.FeeAsset, NpgsqlDbType.Text).ConfigureAwait(false);
                await copy.WriteAsync(fill.IsMaker, NpgsqlDbType.Boolean).ConfigureAwait(false);
                await copy.WriteAsync(Utc(fill.ExchangeTime), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
                await copy.WriteAsync(Utc(fill.ReceivedAt), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
            }

            await copy.CompleteAsync().ConfigureAwait(false);
        }

        await using var move = new NpgsqlCommand(
            "INSERT INTO fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time) " +
            "SELECT order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time FROM fills_incoming " +
            "ON CONFLICT (order_id, trade_id) DO NOTHING",
            connection);
        return await move.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static async Task<long> CopyMidsAsync(NpgsqlConnection connection, List<MidSample> mids)
    {
        if (mids.Count == 0)
        {
            return 0;
        }

        await using var copy = await connection.BeginBinaryImportAsync("COPY mids (order_id, bid, ask, mid, exchange_time, received_time) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false);
        foreach (var mid in mids)
        {
            await copy.StartRowAsync().ConfigureAwait(false);
            await copy.WriteAsync(mid.ParentId, NpgsqlDbType.Bigint).ConfigureAwait(false);
            await copy.WriteAsync(mid.Bid, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(mid.Ask, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(mid.Mid, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(Utc(mid.ExchangeTime), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
            await copy.WriteAsync(Utc(mid.ReceivedAt), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
        }

        return (long)await copy.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task<long> CopyMarketTradesAsync(NpgsqlConnection connection, List<MarketTradeSample> trades)
    {
        if (trades.Count == 0)
        {
            return 0;
        }

        await using var copy = await connection.BeginBinaryImportAsync("COPY market_trades (order_id, price, qty, buyer_is_maker, exchange_time, received_time) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false);
        foreach (var trade in trades)
        {
            await copy.StartRowAsync().ConfigureAwait(false);
            await copy.WriteAsync(trade.ParentId, NpgsqlDbType.Bigint).ConfigureAwait(false);
            await copy.WriteAsync(trade.Price, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(trade.Quantity, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(trade.BuyerIsMaker, NpgsqlDbType.Boolean).ConfigureAwait(false);
            await copy.WriteAsync(Utc(trade.ExchangeTime), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
            await copy.WriteAsync(Utc(trade.ReceivedAt), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
        }

        return (long)await copy.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task<long> CopyEventsAsync(NpgsqlConnection connection, List<DecisionRecord> events)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        await using var copy = await connection.BeginBinaryImportAsync("COPY events (order_id, time, kind, client_order_id, price, qty, trigger, rule, finish_reason, detail, tick_to_order_us) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false);
        foreach (var decision in events)
        {
            var command = decision.Command;
            var isFinish = command.Kind == ChaserCommandKind.Finish;
            var priced = !isFinish && command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify;
            await copy.StartRowAsync().ConfigureAwait(false);
            await copy.WriteAsync(decision.ParentId, NpgsqlDbType.Bigint).ConfigureAwait(false);
            await copy.WriteAsync(Utc(decision.Time), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
            await copy.WriteAsync(ChaserDb.SnakeCase(command.Kind.ToString()), NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, isFinish ? null : command.ClientOrderId, NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync<decimal?>(copy, priced ? command.Price : null, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await WriteNullableAsync<decimal?>(copy, priced ? command.Quantity : null, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(ChaserDb.SnakeCase(command.Cause.Trigger.ToString()), NpgsqlDbType.Text).ConfigureAwait(false);
            await copy.WriteAsync(ChaserDb.SnakeCase(command.Cause.Rule.ToString()), NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, isFinish ? command.FinishReason.ToString().ToLowerInvariant() : null, NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, command.Detail, NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, decision.TickToOrderMicroseconds, NpgsqlDbType.Double).ConfigureAwait(false);
        }

        return (long)await copy.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task<long> CopyInputsAsync(NpgsqlConnection connection, List<OrderInputRow> inputs)
    {
        if (inputs.Count == 0)
        {
            return 0;
        }

        await using var copy = await connection.BeginBinaryImportAsync("COPY order_inputs (order_id, time, kind, payload, decisions_before) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false);
        foreach (var input in inputs)
        {
            await copy.StartRowAsync().ConfigureAwait(false);
            await copy.WriteAsync(input.OrderId, NpgsqlDbType.Bigint).ConfigureAwait(false);
            await copy.WriteAsync(input.Time, NpgsqlDbType.Bigint).ConfigureAwait(false);
            await copy.WriteAsync(input.Kind, NpgsqlDbType.Text).ConfigureAwait(false);
            await copy.WriteAsync(input.Payload, NpgsqlDbType.Text).ConfigureAwait(false);
            await copy.WriteAsync(input.DecisionsBefore, NpgsqlDbType.Integer).ConfigureAwait(false);
        }

        return (long)await copy.CompleteAsync().ConfigureAwait(false);
    }

    private static readonly string[] InputParameterNames = ["@order_id", "@time", "@kind", "@payload", "@decisions_before"];

    /// <summary>SQLite: one prepared statement for the batch's inputs (many a second per order: book tops).</summary>
    private static async Task<long> InsertInputsAsync(DbConnection connection, DbTransaction transaction, List<OrderInputRow> inputs)
    {
        if (inputs.Count == 0)
        {
            return 0;
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO order_inputs (order_id, time, kind, payload, decisions_before) VALUES (@order_id, @time, @kind, @payload, @decisions_before)";
        command.CommandTimeout = 10;
        var parameters = InputParameterNames.Select(name =>
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
            return parameter;
        }).ToArray();
        long rows = 0;
        foreach (var input in inputs)
        {
            parameters[0].Value = input.OrderId;
            parameters[1].Value = input.Time;
            parameters[2].Value = input.Kind;
            parameters[3].Value = input.Payload;
            parameters[4].Value = input.DecisionsBefore;
            rows += await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return rows;
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) =>
        value is null ? copy.WriteNullAsync() : copy.WriteAsync(value, type);

    private static DateTimeOffset Utc(DateTimeOffset time) => new(ChaserDb.ToStoredTicks(time), TimeSpan.Zero);

    private abstract record Write;

    private sealed record OrderStartedWrite(ParentOrderSpec Spec, DateTimeOffset Time) : Write;

    private sealed record ArrivalMidWrite(long ParentId, decimal Mid) : Write;

    private sealed record MidWrite(MidSample Sample) : Write;

    private sealed record MarketTradeWrite(MarketTradeSample Trade) : Write;

    private sealed record EventWrite(DecisionRecord Decision) : Write;

    private sealed record ChildWrite(ChildOrderSnapshot Child) : Write;

    private sealed record FillWrite(FillRecord Fill) : Write;

    /// <summary>A row of <c>order_inputs</c>, its payload made here, on the writer, not on the order's loop.</summary>
    private abstract record MachineInputWrite(long ParentId) : Write
    {
        public abstract OrderInputRow ToRow(int decisionsBefore);
    }

    private sealed record StartInputWrite(ReplayStart Start) : MachineInputWrite(Start.Spec.Id)
    {
        public override OrderInputRow ToRow(int decisionsBefore) => new() { OrderId = ParentId, Time = Start.StartedAt.UtcTicks, Kind = OrderInputs.StartKind, Payload = OrderInputs.EncodeStart(Start), DecisionsBefore = decisionsBefore };
    }

    /// <summary>A book top's fields, times as ticks: the smallest object a frame can be queued in (no larger than a mid sample's).</summary>
    private sealed record BookInputWrite(long ParentId, long Time, decimal Bid, decimal BidQty, decimal Ask, decimal AskQty, long UpdateId, long ExchangeTime) : MachineInputWrite(ParentId)
    {
        public override OrderInputRow ToRow(int decisionsBefore)
        {
            var time = new DateTimeOffset(Time, TimeSpan.Zero);
            var book = new BookTop(Bid, BidQty, Ask, AskQty, UpdateId, new DateTimeOffset(ExchangeTime, TimeSpan.Zero));
            return new() { OrderId = ParentId, Time = Time, Kind = BookKind, Payload = OrderInputs.EncodeBook(book, time), DecisionsBefore = decisionsBefore };
        }
    }

    private sealed record TradeInputWrite(long ParentId, DateTimeOffset Time, TradePrint Trade) : MachineInputWrite(ParentId)
    {
        public override OrderInputRow ToRow(int decisionsBefore) => new() { OrderId = ParentId, Time = Time.UtcTicks, Kind = TradeKind, Payload = OrderInputs.EncodeTrade(Trade, Time), DecisionsBefore = decisionsBefore };
    }

    private sealed record DepthInputWrite(long ParentId, DateTimeOffset Time, DepthLevels Depth) : MachineInputWrite(ParentId)
    {
        public override OrderInputRow ToRow(int decisionsBefore) => new() { OrderId = ParentId, Time = Time.UtcTicks, Kind = DepthKind, Payload = OrderInputs.EncodeDepth(Depth, Time), DecisionsBefore = decisionsBefore };
    }

    private sealed record InputWrite(long ParentId, DateTimeOffset Time, ChaserInput Input) : MachineInputWrite(ParentId)
    {
        public override OrderInputRow ToRow(int decisionsBefore) => new() { OrderId = ParentId, Time = Time.UtcTicks, Kind = OrderInputs.KindOf(Input.Kind), Payload = OrderInputs.Encode(Input, Time), DecisionsBefore = decisionsBefore };
    }

    private static readonly string BookKind = OrderInputs.KindOf(EventKind.BookTop);
    private static readonly string TradeKind = OrderInputs.KindOf(EventKind.Trade);
    private static readonly string DepthKind = OrderInputs.KindOf(EventKind.Depth);

    private sealed record OrderCompletedWrite(ExecutionResult Result) : Write;

    private sealed record AliveWrite(long ParentId, DateTimeOffset Time) : Write;

    private sealed record FlushMarker : Write
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Recorded writes that could not reach the database in the time allowed: they are lost, and this says how many.</summary>
public sealed class StorageUnreachableException(string message) : TimeoutException(message);
