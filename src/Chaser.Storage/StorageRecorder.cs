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
/// unbounded channel (it never blocks and never loses a write) as a <see cref="Write"/> value, stored in the channel's
/// ring segments: once they have grown to the most ever queued at once, recording a book top, a mid, a decision or a
/// child allocates nothing. When the writer falls behind (a database outage) the queue grows by another, larger
/// segment instead of blocking the order's loop or dropping a row. One background writer drains the queue in
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

    public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Enqueue(new Write { Kind = WriteKind.OrderStarted, ParentId = spec.Id, Time = time.UtcTicks, Item = spec });
    }

    public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time) => Enqueue(new Write { Kind = WriteKind.ArrivalMid, ParentId = parentId, D0 = mid });

    public void Mid(MidSample sample) => Enqueue(new Write
    {
        Kind = WriteKind.Mid,
        ParentId = sample.ParentId,
        D0 = sample.Bid,
        D1 = sample.Ask,
        Time = sample.ReceivedAt.UtcTicks,
        Time2 = sample.ExchangeTime.UtcTicks,
    });

    public void MarketTrade(MarketTradeSample trade) => Enqueue(new Write
    {
        Kind = WriteKind.MarketTrade,
        ParentId = trade.ParentId,
        D0 = trade.Price,
        D1 = trade.Quantity,
        Flags = trade.BuyerIsMaker ? 1 : 0,
        Time = trade.ReceivedAt.UtcTicks,
        Time2 = trade.ExchangeTime.UtcTicks,
    });

    public void Decision(DecisionRecord decision) => Enqueue(new Write { Kind = WriteKind.Decision, ParentId = decision.ParentId, Decision = decision });

    public void MachineStarted(ReplayStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        Enqueue(new Write { Kind = WriteKind.StartInput, ParentId = start.Spec.Id, Time = start.StartedAt.UtcTicks, Item = start });
    }

    public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
    {
        // Inputs arrive many a second: queue only the fields their payload is made of, in the value itself, and leave
        // the text of every payload to the background writer. The rarer kinds go as the input itself.
        var write = new Write { ParentId = parentId, Time = time.UtcTicks };
        switch (input.Kind)
        {
            case EventKind.BookTop:
                var book = input.Book;
                write = write with { Kind = WriteKind.BookInput, D0 = book.Bid, D1 = book.BidQty, D2 = book.Ask, D3 = book.AskQty, Long = book.UpdateId, Time2 = book.ExchangeTime.UtcTicks };
                break;
            case EventKind.Trade:
                var trade = input.Trade;
                write = write with { Kind = WriteKind.TradeInput, D0 = trade.Price, D1 = trade.Quantity, Flags = trade.BuyerIsMaker ? 1 : 0, Time2 = trade.ExchangeTime.UtcTicks };
                break;
            case EventKind.Accepted:
                var accepted = input.Accepted;
                write = write with { Kind = WriteKind.AcceptedInput, Text = accepted.ClientOrderId, Long = accepted.ExchangeOrderId, D0 = accepted.Price, D1 = accepted.Quantity, Flags = accepted.IsModify ? 1 : 0, Time2 = accepted.ExchangeTime.UtcTicks };
                break;
            case EventKind.Depth when input.Depth is { } depth:
                write = write with { Kind = WriteKind.DepthInput, Item = depth };
                break;
            case EventKind.Timer or EventKind.UserCancel or EventKind.RateBudget or EventKind.CancelBudget or EventKind.ConnectivityLost or EventKind.ConnectivityRestored:
                write = write with { Kind = WriteKind.PlainInput, Int0 = (int)input.Kind, Int1 = (int)input.Scope, Text = input.Symbol, D0 = input.Budget, Flags = input.YoungCancelsAllowed ? 1 : 0 };
                break;
            default:
                write = write with { Kind = WriteKind.Input, Item = input };
                break;
        }

        Enqueue(write);
    }

    public void Child(ChildOrderSnapshot child) => Enqueue(new Write
    {
        Kind = WriteKind.Child,
        ParentId = child.ParentId,
        Text = child.ClientOrderId,
        Int0 = child.Sequence,
        Int1 = child.Modifies,
        Flags = (int)child.OrderType | ((int)child.State << 8) | ((child.FinalStatus is { } final ? (int)final + 1 : 0) << 16) | (child.WasRejected ? 1 << 24 : 0),
        Long = child.ExchangeOrderId,
        D0 = child.Price,
        D1 = child.Quantity,
        D2 = child.FilledQuantity,
        D3 = child.FilledNotional,
        Time = child.Time.UtcTicks,
        Time2 = child.SentAt.UtcTicks,
        Time3 = child.PlacedAt.UtcTicks,
    });

    public void Fill(FillRecord fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        Enqueue(new Write { Kind = WriteKind.Fill, ParentId = fill.ParentId, Item = fill });
    }

    public void OrderCompleted(ExecutionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Enqueue(new Write { Kind = WriteKind.OrderCompleted, ParentId = result.Spec.Id, Item = result });
    }

    public void Alive(IReadOnlyCollection<long> parentIds, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(parentIds);
        foreach (var id in parentIds)
        {
            Enqueue(new Write { Kind = WriteKind.Alive, ParentId = id, Time = time.UtcTicks });
        }
    }

    /// <summary>Returns once everything queued before the call is in the database.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Write { Kind = WriteKind.Flush, Item = done });
        return done.Task.WaitAsync(cancellationToken);
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
            if (_closing.IsCancellationRequested && write.Kind != WriteKind.Flush)
            {
                // Given up on an unreachable database, and said so: what still arrives while the run winds down (a
                // markout's last mid) is lost with the rest, not a crash of the shutdown that reports it.
                return;
            }

            throw new InvalidOperationException("the recorder is closed");
        }

        if (write.Kind != WriteKind.Flush)
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

            var settled = 0;
            foreach (var write in batch)
            {
                if (write.Kind == WriteKind.Flush)
                {
                    ((TaskCompletionSource)write.Item!).TrySetResult();
                }
                else
                {
                    settled++;
                }
            }

            Interlocked.Add(ref _settled, settled);
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
            switch (write.Kind)
            {
                case WriteKind.StartInput:
                    _decisionsSoFar[write.ParentId] = 0;
                    rows.Add(write.ToInputRow(0));
                    break;
                case WriteKind.BookInput or WriteKind.TradeInput or WriteKind.AcceptedInput or WriteKind.DepthInput or WriteKind.PlainInput or WriteKind.Input:
                    rows.Add(write.ToInputRow(_decisionsSoFar.GetValueOrDefault(write.ParentId)));
                    break;
                case WriteKind.Decision when _decisionsSoFar.TryGetValue(write.ParentId, out var count):
                    _decisionsSoFar[write.ParentId] = count + 1;
                    break;
                case WriteKind.OrderCompleted:
                    _decisionsSoFar.Remove(write.ParentId);
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
            switch (write.Kind)
            {
                case WriteKind.OrderStarted or WriteKind.ArrivalMid or WriteKind.Alive:
                    parents.Add(write);
                    break;
                case WriteKind.Child:
                    children.Add(write.ToChild());
                    break;
                case WriteKind.Fill:
                    fills.Add((FillRecord)write.Item!);
                    break;
                case WriteKind.Mid:
                    mids.Add(write.ToMid());
                    break;
                case WriteKind.Decision:
                    events.Add(write.Decision);
                    break;
                case WriteKind.MarketTrade:
                    trades.Add(write.ToMarketTrade());
                    break;
                case WriteKind.OrderCompleted:
                    completions.Add((ExecutionResult)write.Item!);
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
            rows += write.Kind switch
            {
                WriteKind.OrderStarted => await statements.RunAsync(UpsertStartedSql, StartedParameters((ParentOrderSpec)write.Item!, Utc(write.Time))).ConfigureAwait(false),
                WriteKind.ArrivalMid => await statements.RunAsync(ArrivalMidSql, [("@mid", Money(write.D0)), ("@id", write.ParentId)]).ConfigureAwait(false),
                WriteKind.Alive => await statements.RunAsync(AliveSql, [("@time", Time(Utc(write.Time))), ("@id", write.ParentId)]).ConfigureAwait(false),
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

    private (string, object?)[] StartedParameters(ParentOrderSpec spec, DateTimeOffset time) =>
    [
        ("@id", spec.Id),
        ("@symbol", spec.Symbol),
        ("@size", Money(spec.Size)),
        ("@size_type", spec.SizeType == SizeType.Notional ? "n" : "q"),
        ("@side", spec.Side.Sign()),
        ("@reduce_only", spec.ReduceOnly),
        ("@price_expected", Money(spec.PriceExpected)),
        ("@strategy", spec.Strategy),
        ("@deadline", Time(spec.Deadline)),
        ("@deadline_action", spec.OnDeadline == DeadlineAction.TakeRemainder ? "take" : "cancel"),
        // Rounded up: a limit under a millisecond is still positive, as the column's CHECK requires (a refused row would hold the batch).
        ("@time_limit_ms", spec.TimeLimit is { } limit ? (long)Math.Ceiling(limit.TotalMilliseconds) : null),
        ("@min_reprice_interval_ms", OrderQueries.ToIntervalMs(spec.MinRepriceInterval)),
        ("@time", Time(time)),
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

    private enum WriteKind : byte
    {
        OrderStarted,
        ArrivalMid,
        Mid,
        MarketTrade,
        Decision,
        Child,
        Fill,
        OrderCompleted,
        Alive,
        StartInput,
        BookInput,
        TradeInput,
        AcceptedInput,
        DepthInput,

        /// <summary>An input of a kind with at most a scalar and a symbol (timer, user cancel, budgets, connectivity).</summary>
        PlainInput,

        /// <summary>Any other input (fills, rejects, finishes, unknown outcomes, status reports): the input itself.</summary>
        Input,
        Flush,
    }

    /// <summary>
    /// One queued write, a value held in the queue's own storage: the fields of its kind (named below for each), times as
    /// UTC ticks. The frequent kinds — book tops and the other market data, mids, decisions, children, order acks —
    /// carry their fields here and allocate nothing; the rare ones (an order's start and end, a fill, a reject) carry
    /// their record in <see cref="Item"/>. What the writer rebuilds from it is what was handed in.
    /// </summary>
    private readonly record struct Write
    {
        public WriteKind Kind { get; init; }

        public long ParentId { get; init; }

        /// <summary>When: handled (inputs), received (mids, trades), seen (children), started, alive.</summary>
        public long Time { get; init; }

        /// <summary>An exchange time (book tops, trades, acks, mids), a child's sent time.</summary>
        public long Time2 { get; init; }

        /// <summary>A child's placed time.</summary>
        public long Time3 { get; init; }

        /// <summary>A book's update id, an exchange order id.</summary>
        public long Long { get; init; }

        /// <summary>A client order id, a symbol.</summary>
        public string? Text { get; init; }

        /// <summary>The record of a rare kind; a flush's completion.</summary>
        public object? Item { get; init; }

        public decimal D0 { get; init; }

        public decimal D1 { get; init; }

        public decimal D2 { get; init; }

        public decimal D3 { get; init; }

        public int Int0 { get; init; }

        public int Int1 { get; init; }

        /// <summary>Booleans and small enums, packed.</summary>
        public int Flags { get; init; }

        public DecisionRecord Decision { get; init; }

        public MidSample ToMid() => new(ParentId, D0, D1, Utc(Time2), Utc(Time));

        public MarketTradeSample ToMarketTrade() => new(ParentId, D0, D1, Flags != 0, Utc(Time2), Utc(Time));

        public ChildOrderSnapshot ToChild() => new()
        {
            ParentId = ParentId,
            ClientOrderId = Text!,
            Sequence = Int0,
            Modifies = Int1,
            OrderType = (ChildOrderType)(Flags & 0xFF),
            State = (ChildState)((Flags >> 8) & 0xFF),
            FinalStatus = ((Flags >> 16) & 0xFF) is var final and > 0 ? (ExchangeOrderStatus)(final - 1) : null,
            WasRejected = (Flags & (1 << 24)) != 0,
            ExchangeOrderId = Long,
            Price = D0,
            Quantity = D1,
            FilledQuantity = D2,
            FilledNotional = D3,
            Time = Utc(Time),
            SentAt = Utc(Time2),
            PlacedAt = Utc(Time3),
        };

        /// <summary>A row of <c>order_inputs</c>, its payload made here, on the writer, not on the order's loop.</summary>
        public OrderInputRow ToInputRow(int decisionsBefore)
        {
            var time = Utc(Time);
            var (kind, payload) = Kind switch
            {
                WriteKind.StartInput => (OrderInputs.StartKind, OrderInputs.EncodeStart((ReplayStart)Item!)),
                WriteKind.BookInput => (BookKind, OrderInputs.EncodeBook(new BookTop(D0, D1, D2, D3, Long, Utc(Time2)), time)),
                WriteKind.TradeInput => (TradeKind, OrderInputs.EncodeTrade(new TradePrint(D0, D1, Flags != 0, Utc(Time2), default), time)),
                WriteKind.DepthInput => (DepthKind, OrderInputs.EncodeDepth((DepthLevels)Item!, time)),
                _ => Encoded(ToInput(), time),
            };
            return new() { OrderId = ParentId, Time = Time, Kind = kind, Payload = payload, DecisionsBefore = decisionsBefore };
        }

        private static (string Kind, string Payload) Encoded(in ChaserInput input, DateTimeOffset time) => (OrderInputs.KindOf(input.Kind), OrderInputs.Encode(input, time));

        private ChaserInput ToInput() => Kind switch
        {
            WriteKind.AcceptedInput => ChaserInput.OfAccepted(new OrderAccepted(Text!, Long, D0, D1, Flags != 0, Utc(Time2), default)),
            WriteKind.PlainInput => (EventKind)Int0 switch
            {
                EventKind.Timer => ChaserInput.Timer,
                EventKind.UserCancel => ChaserInput.UserCancel,
                EventKind.RateBudget => ChaserInput.OfRateBudget(D0),
                EventKind.CancelBudget => ChaserInput.OfCancelBudget(Flags != 0),
                var connectivity => ChaserInput.OfConnectivity((ConnectionScope)Int1, Text, up: connectivity == EventKind.ConnectivityRestored),
            },
            _ => (ChaserInput)Item!,
        };
    }

    private static DateTimeOffset Utc(long ticks) => new(ticks, TimeSpan.Zero);

    private static readonly string BookKind = OrderInputs.KindOf(EventKind.BookTop);
    private static readonly string TradeKind = OrderInputs.KindOf(EventKind.Trade);
    private static readonly string DepthKind = OrderInputs.KindOf(EventKind.Depth);
}

/// <summary>Recorded writes that could not reach the database in the time allowed: they are lost, and this says how many.</summary>
public sealed class StorageUnreachableException(string message) : TimeoutException(message);
