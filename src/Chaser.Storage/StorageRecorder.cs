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
        // One pass sorts the batch by table; each table's rows keep their queue order.
        var parents = new List<Write>();
        var children = new ChildUpserts();
        var fills = new List<FillRecord>();
        var mids = new List<MidSample>();
        var events = new List<DecisionRecord>();
        var trades = new List<MarketTradeSample>();
        var completions = new List<ExecutionResult>();
        foreach (var write in batch)
        {
            switch (write)
            {
                case OrderStartedWrite or ArrivalMidWrite or AliveWrite:
                    parents.Add(write);
                    break;
                case ChildWrite child:
                    children.Add(child.Child);
                    break;
                case FillWrite fill:
                    fills.Add(fill.Fill);
                    break;
                case MidWrite mid:
                    mids.Add(mid.Sample);
                    break;
                case EventWrite decision:
                    events.Add(decision.Decision);
                    break;
                case MarketTradeWrite trade:
                    trades.Add(trade.Trade);
                    break;
                case OrderCompletedWrite completed:
                    completions.Add(completed.Result);
                    break;
                default:
                    break;
            }
        }

        if (parents.Count + children.Count + fills.Count + mids.Count + events.Count + trades.Count + completions.Count + inputs.Count == 0)
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
        await using var statements = new Statements(connection, transaction);
        long rows = 0;

        // Parent rows first (the others reference them), completions last.
        foreach (var write in parents)
        {
            rows += write switch
            {
                OrderStartedWrite started => await statements.RunAsync(UpsertStartedSql, StartedParameters(started)).ConfigureAwait(false),
                ArrivalMidWrite arrival => await statements.RunAsync(ArrivalMidSql, [("@mid", Money(arrival.Mid)), ("@id", arrival.ParentId)]).ConfigureAwait(false),
                AliveWrite alive => await statements.RunAsync(AliveSql, [("@time", Time(alive.Time)), ("@id", alive.ParentId)]).ConfigureAwait(false),
                _ => 0,
            };
        }

        foreach (var child in children.Rows)
        {
            rows += await statements.RunAsync(UpsertChildSql, ChildParameters(child)).ConfigureAwait(false);
        }

        if (connection is NpgsqlConnection npgsql)
        {
            // The order rows and children in one round trip, then one COPY per table.
            rows += await statements.SendAsync().ConfigureAwait(false);
            rows += await WriteFillsAsync(npgsql, (NpgsqlTransaction)transaction, fills).ConfigureAwait(false);
            rows += await CopyMarketTradesAsync(npgsql, trades).ConfigureAwait(false);
            rows += await CopyMidsAsync(npgsql, mids).ConfigureAwait(false);
            rows += await CopyEventsAsync(npgsql, events).ConfigureAwait(false);
            rows += await CopyInputsAsync(npgsql, inputs).ConfigureAwait(false);
        }
        else
        {
            foreach (var fill in fills)
            {
                rows += await statements.RunAsync(InsertFillSql, FillParameters(fill)).ConfigureAwait(false);
            }

            foreach (var mid in mids)
            {
                rows += await statements.RunAsync(InsertMidSql, MidParameters(mid)).ConfigureAwait(false);
            }

            foreach (var decision in events)
            {
                rows += await statements.RunAsync(InsertEventSql, EventParameters(decision)).ConfigureAwait(false);
            }

            foreach (var trade in trades)
            {
                rows += await statements.RunAsync(InsertMarketTradeSql, MarketTradeParameters(trade)).ConfigureAwait(false);
            }

            foreach (var input in inputs)
            {
                rows += await statements.RunAsync(InsertInputSql, [("@order_id", input.OrderId), ("@time", input.Time), ("@kind", input.Kind), ("@payload", input.Payload), ("@decisions_before", input.DecisionsBefore)]).ConfigureAwait(false);
            }
        }

        foreach (var completed in completions)
        {
            rows += await statements.RunAsync(CompletedSql, CompletedParameters(completed)).ConfigureAwait(false);
        }

        rows += await statements.SendAsync().ConfigureAwait(false);
        await transaction.CommitAsync().ConfigureAwait(false);
        return rows;
    }

    /// <summary>
    /// The statements of one batch: on PostgreSQL gathered into one <see cref="NpgsqlBatch"/> (one round trip, sent by
    /// <see cref="SendAsync"/>); on SQLite run at once, one command per statement text reused for every row (prepared
    /// once, parameters set by position) instead of a new command parsed for each.
    /// </summary>
    private sealed class Statements(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
    {
        private readonly Dictionary<string, DbCommand> _prepared = new(StringComparer.Ordinal);
        private NpgsqlBatch? _batch;

        public async ValueTask<long> RunAsync(string sql, (string Name, object? Value)[] parameters)
        {
            if (connection is NpgsqlConnection npgsql)
            {
                // A statement stuck behind a lock or a dead server fails soon and the whole batch is retried.
                _batch ??= new NpgsqlBatch(npgsql, (NpgsqlTransaction)transaction) { Timeout = 10 };
                var statement = new NpgsqlBatchCommand(sql);
                foreach (var (name, value) in parameters)
                {
                    statement.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter(name, value ?? DBNull.Value));
                }

                _batch.BatchCommands.Add(statement);
                return 0;
            }

            if (!_prepared.TryGetValue(sql, out var command))
            {
                command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = sql;
                command.CommandTimeout = 10;
                foreach (var (name, _) in parameters)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    command.Parameters.Add(parameter);
                }

                _prepared[sql] = command;
            }

            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }

            return await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        /// <summary>PostgreSQL: sends what was gathered (nothing to do on SQLite, where each statement ran at once).</summary>
        public async ValueTask<long> SendAsync()
        {
            if (_batch is not { } batch)
            {
                return 0;
            }

            _batch = null;
            await using (batch.ConfigureAwait(false))
            {
                return await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_batch is not null)
            {
                await _batch.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var command in _prepared.Values)
            {
                await command.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A batch's snapshots of each child folded into the one upsert that leaves the row as upserting each in turn
    /// would (see <see cref="UpsertChildSql"/>): the first snapshot's insert-only columns, the last one's state, the
    /// last exchange order id that is not 0, the first ack and done times. A busy order sends a snapshot for every
    /// ack and fill; its row is written once a batch.
    /// </summary>
    private sealed class ChildUpserts
    {
        private readonly Dictionary<string, ChildRow> _byId = new(StringComparer.Ordinal);

        public List<ChildRow> Rows { get; } = [];

        public int Count => Rows.Count;

        public void Add(ChildOrderSnapshot child)
        {
            var row = ChildRow.Of(child);
            if (_byId.TryGetValue(child.ClientOrderId, out var folded))
            {
                folded.Update(row);
            }
            else
            {
                _byId[child.ClientOrderId] = row;
                Rows.Add(row);
            }
        }
    }

    /// <summary>A <c>child_orders</c> row's values as one snapshot gives them (times still to be stored).</summary>
    private sealed class ChildRow
    {
        public required long ParentId { get; init; }

        public required string ClientOrderId { get; init; }

        public required int Sequence { get; init; }

        public required string Type { get; init; }

        public required DateTimeOffset SentAt { get; init; }

        public long ExchangeOrderId { get; private set; }

        public decimal Price { get; private set; }

        public decimal Quantity { get; private set; }

        public string Status { get; private set; } = "";

        public decimal FilledQuantity { get; private set; }

        public int Modifies { get; private set; }

        public DateTimeOffset? AckedAt { get; private set; }

        public DateTimeOffset? DoneAt { get; private set; }

        public DateTimeOffset UpdatedAt { get; private set; }

        public static ChildRow Of(ChildOrderSnapshot child) => new()
        {
            ParentId = child.ParentId,
            ClientOrderId = child.ClientOrderId,
            Sequence = child.Sequence,
            Type = child.OrderType == ChildOrderType.Market ? "market" : "post_only",
            SentAt = child.SentAt,
            ExchangeOrderId = child.ExchangeOrderId,
            Price = child.Price,
            Quantity = child.Quantity,
            Status = StatusOf(child),
            FilledQuantity = child.FilledQuantity,

            // The chaser's own count: a modify accepted and followed at once by the next is never seen resting.
            Modifies = child.Modifies,
            AckedAt = child.ExchangeOrderId != 0 ? child.Time : null,
            DoneAt = child.State == ChildState.Final ? child.Time : null,
            UpdatedAt = child.Time,
        };

        /// <summary>What the upsert's <c>DO UPDATE</c> does with a later snapshot of the same child.</summary>
        public void Update(ChildRow later)
        {
            ExchangeOrderId = later.ExchangeOrderId != 0 ? later.ExchangeOrderId : ExchangeOrderId;
            Modifies = later.Modifies;
            Price = later.Price;
            Quantity = later.Quantity;
            Status = later.Status;
            FilledQuantity = later.FilledQuantity;
            AckedAt ??= later.AckedAt;
            DoneAt ??= later.DoneAt;
            UpdatedAt = later.UpdatedAt;
        }
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

    // PostgreSQL, a batch repeating a fill: the batch's fills as arrays, in one statement that skips what is stored.
    private const string InsertFillsSql = """
        INSERT INTO fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time)
        SELECT * FROM unnest(@order_id, @client_order_id, @trade_id, @price, @qty, @fee, @fee_asset, @is_maker, @exchange_time, @received_time)
        ON CONFLICT (order_id, trade_id) DO NOTHING
        """;

    private const string ArrivalMidSql = "UPDATE orders SET arrival_mid = @mid WHERE id = @id";

    private const string AliveSql = "UPDATE orders SET heartbeat_at = @time WHERE id = @id AND status = 'working'";

    private const string InsertInputSql = "INSERT INTO order_inputs (order_id, time, kind, payload, decisions_before) VALUES (@order_id, @time, @kind, @payload, @decisions_before)";

    private const string InsertMidSql = """
        INSERT INTO mids (order_id, bid, ask, mid, exchange_time, received_time)
        VALUES (@order_id, @bid, @ask, @mid, @exchange_time, @received_time)
        """;

    private const string InsertMarketTradeSql = """
        INSERT INTO market_trades (order_id, price, qty, buyer_is_maker, exchange_time, received_time)
        VALUES (@order_id, @price, @qty, @buyer_is_maker, @exchange_time, @received_time)
        """;

    private const string InsertEventSql = """
        INSERT INTO events (order_id, time, kind, client_order_id, price, qty, trigger, rule, finish_reason, detail, tick_to_order_us, hop_us)
        VALUES (@order_id, @time, @kind, @client_order_id, @price, @qty, @trigger, @rule, @finish_reason, @detail, @tick_to_order_us, @hop_us)
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

    private (string, object?)[] ChildParameters(ChildRow child) =>
    [
        ("@order_id", child.ParentId),
        ("@client_order_id", child.ClientOrderId),
        ("@exchange_order_id", child.ExchangeOrderId),
        ("@sequence", child.Sequence),
        ("@type", child.Type),
        ("@price", Money(child.Price)),
        ("@qty", Money(child.Quantity)),
        ("@status", child.Status),
        ("@filled_qty", Money(child.FilledQuantity)),
        ("@modifies", child.Modifies),
        ("@sent_at", Time(child.SentAt)),
        ("@acked_at", Time(child.AckedAt)),
        ("@done_at", Time(child.DoneAt)),
        ("@updated_at", Time(child.UpdatedAt)),
    ];

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

    private static (string, object?)[] FillArrays(List<FillRecord> fills)
    {
        static (string, object?) Column<T>(string name, NpgsqlDbType type, List<FillRecord> fills, Func<FillRecord, T> value) =>
            (name, new NpgsqlParameter<T[]>(name, NpgsqlDbType.Array | type) { TypedValue = [.. fills.Select(value)] });
        return
        [
            Column("@order_id", NpgsqlDbType.Bigint, fills, f => f.ParentId),
            Column("@client_order_id", NpgsqlDbType.Text, fills, f => f.ClientOrderId),
            Column("@trade_id", NpgsqlDbType.Bigint, fills, f => f.TradeId),
            Column("@price", NpgsqlDbType.Numeric, fills, f => f.Price),
            Column("@qty", NpgsqlDbType.Numeric, fills, f => f.Quantity),
            Column("@fee", NpgsqlDbType.Numeric, fills, f => f.Fee),
            Column("@fee_asset", NpgsqlDbType.Text, fills, f => f.FeeAsset),
            Column("@is_maker", NpgsqlDbType.Boolean, fills, f => f.IsMaker),
            Column("@exchange_time", NpgsqlDbType.TimestampTz, fills, f => Utc(f.ExchangeTime)),
            Column("@received_time", NpgsqlDbType.TimestampTz, fills, f => Utc(f.ReceivedAt)),
        ];
    }

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
            ("@kind", SnakeNames<ChaserCommandKind>.Of(command.Kind)),
            ("@client_order_id", isFinish ? null : command.ClientOrderId),
            ("@price", isFinish || command.Kind is ChaserCommandKind.Cancel or ChaserCommandKind.Query ? null : Money(command.Price)),
            ("@qty", isFinish || command.Kind is ChaserCommandKind.Cancel or ChaserCommandKind.Query ? null : Money(command.Quantity)),
            ("@trigger", SnakeNames<EventKind>.Of(command.Cause.Trigger)),
            ("@rule", SnakeNames<DecisionRule>.Of(command.Cause.Rule)),
            ("@finish_reason", isFinish ? LowerNames<FinishReason>.Of(command.FinishReason) : null),
            ("@detail", command.Detail),
            ("@tick_to_order_us", decision.TickToOrderMicroseconds),
            ("@hop_us", decision.HopMicroseconds),
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

    // ------------------------------------------------------------------ PostgreSQL binary COPY

    /// <summary>
    /// PostgreSQL: a batch's fills by binary COPY straight into <c>fills</c>, inside a savepoint. COPY can't skip a
    /// fill already stored; a batch that repeats one (userTrades after a reconnect, a fill twice in the batch) hits the
    /// unique index, is rolled back to the savepoint and goes in through the INSERT that skips what is stored. Either
    /// way the fills commit with the rest of the batch or not at all.
    /// </summary>
    private static async Task<long> WriteFillsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<FillRecord> fills)
    {
        if (fills.Count == 0)
        {
            return 0;
        }

        await transaction.SaveAsync("fills").ConfigureAwait(false);
        try
        {
            var copied = await CopyFillsAsync(connection, fills).ConfigureAwait(false);
            await transaction.ReleaseAsync("fills").ConfigureAwait(false);
            return copied;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await transaction.RollbackAsync("fills").ConfigureAwait(false);
        }

        await using var insert = new NpgsqlCommand(InsertFillsSql, connection, transaction) { CommandTimeout = 10 };
        foreach (var (_, parameter) in FillArrays(fills))
        {
            insert.Parameters.Add((NpgsqlParameter)parameter!);
        }

        return await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static async Task<long> CopyFillsAsync(NpgsqlConnection connection, List<FillRecord> fills)
    {
        await using var copy = await connection.BeginBinaryImportAsync("COPY fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false);
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

        return (long)await copy.CompleteAsync().ConfigureAwait(false);
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

        await using var copy = await connection.BeginBinaryImportAsync("COPY events (order_id, time, kind, client_order_id, price, qty, trigger, rule, finish_reason, detail, tick_to_order_us, hop_us) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false);
        foreach (var decision in events)
        {
            var command = decision.Command;
            var isFinish = command.Kind == ChaserCommandKind.Finish;
            var priced = !isFinish && command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify;
            await copy.StartRowAsync().ConfigureAwait(false);
            await copy.WriteAsync(decision.ParentId, NpgsqlDbType.Bigint).ConfigureAwait(false);
            await copy.WriteAsync(Utc(decision.Time), NpgsqlDbType.TimestampTz).ConfigureAwait(false);
            await copy.WriteAsync(SnakeNames<ChaserCommandKind>.Of(command.Kind), NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, isFinish ? null : command.ClientOrderId, NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync<decimal?>(copy, priced ? command.Price : null, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await WriteNullableAsync<decimal?>(copy, priced ? command.Quantity : null, NpgsqlDbType.Numeric).ConfigureAwait(false);
            await copy.WriteAsync(SnakeNames<EventKind>.Of(command.Cause.Trigger), NpgsqlDbType.Text).ConfigureAwait(false);
            await copy.WriteAsync(SnakeNames<DecisionRule>.Of(command.Cause.Rule), NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, isFinish ? LowerNames<FinishReason>.Of(command.FinishReason) : null, NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, command.Detail, NpgsqlDbType.Text).ConfigureAwait(false);
            await WriteNullableAsync(copy, decision.TickToOrderMicroseconds, NpgsqlDbType.Double).ConfigureAwait(false);
            await WriteNullableAsync(copy, decision.HopMicroseconds, NpgsqlDbType.Double).ConfigureAwait(false);
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

    /// <summary>An enum's names as stored (snake_case), made once rather than for every row.</summary>
    private static class SnakeNames<T>
        where T : struct, Enum
    {
        private static readonly Dictionary<T, string> Names = Enum.GetValues<T>().Distinct().ToDictionary(v => v, v => ChaserDb.SnakeCase(v.ToString()));

        public static string Of(T value) => Names.TryGetValue(value, out var name) ? name : ChaserDb.SnakeCase(value.ToString());
    }

    /// <summary>An enum's names as stored in lower case (finish reasons), made once.</summary>
    private static class LowerNames<T>
        where T : struct, Enum
    {
        private static readonly Dictionary<T, string> Names = Enum.GetValues<T>().Distinct().ToDictionary(v => v, v => v.ToString().ToLowerInvariant());

        public static string Of(T value) => Names.TryGetValue(value, out var name) ? name : value.ToString().ToLowerInvariant();
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
