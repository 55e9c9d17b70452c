using System.Globalization;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Chaser.StorageThroughput;

/// <summary>
/// The floor the recorder is measured against: the same rows into the same tables, written by hand with nothing but
/// what the database needs — the calls taken <see cref="StorageRecorder.MaxBatch"/> at a time (the recorder's batch),
/// one transaction each, on one connection held open. PostgreSQL: one binary COPY per table straight into it (fills
/// too: no duplicate check), the upserts of orders and children in one round trip (a batch of statements). SQLite:
/// one prepared INSERT per table reused for every row. Column values are made from the same records the engine hands
/// the recorder (order inputs through the same <see cref="OrderInputs"/> encoders: the payload format is the schema's).
/// </summary>
internal static class RawWriter
{
    public static async Task WriteAsync(string connectionString, Workload workload)
    {
        if (ChaserDb.ProviderOf(connectionString) == DatabaseProvider.PostgreSql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var counter = new DecisionCounter();
            foreach (var chunk in workload.Calls.Chunk(StorageRecorder.MaxBatch))
            {
                await WritePostgresAsync(connection, chunk, counter);
            }
        }
        else
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync();
            await using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = StorageRecorder.SqlitePragmas;
                await pragma.ExecuteNonQueryAsync();
            }

            using var statements = new SqliteStatements(connection);
            var counter = new DecisionCounter();
            foreach (var chunk in workload.Calls.Chunk(StorageRecorder.MaxBatch))
            {
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
                statements.Write(chunk, transaction, counter);
                await transaction.CommitAsync();
            }
        }
    }

    // ------------------------------------------------------------------ PostgreSQL

    private static async Task WritePostgresAsync(NpgsqlConnection connection, Call[] chunk, DecisionCounter counter)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        var first = new NpgsqlBatch(connection, transaction);
        foreach (var call in chunk)
        {
            switch (call)
            {
                case StartedCall started:
                    first.BatchCommands.Add(Command(StartedSql, StartedValues(started.Spec, started.Time, Utc)));
                    break;
                case ArrivalMidCall arrival:
                    first.BatchCommands.Add(Command("UPDATE orders SET arrival_mid = $1 WHERE id = $2", [arrival.Mid, arrival.ParentId]));
                    break;
                default:
                    break;
            }
        }

        foreach (var call in chunk)
        {
            if (call is ChildCall child)
            {
                first.BatchCommands.Add(Command(ChildSql, ChildValues(child.Child, Utc)));
            }
        }

        if (first.BatchCommands.Count > 0)
        {
            await first.ExecuteNonQueryAsync();
        }

        await first.DisposeAsync();

        await CopyAsync(connection, "COPY market_trades (order_id, price, qty, buyer_is_maker, exchange_time, received_time) FROM STDIN (FORMAT BINARY)", chunk.OfType<MarketTradeCall>(), async (copy, call) =>
        {
            var trade = call.Trade;
            await copy.WriteAsync(trade.ParentId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(trade.Price, NpgsqlDbType.Numeric);
            await copy.WriteAsync(trade.Quantity, NpgsqlDbType.Numeric);
            await copy.WriteAsync(trade.BuyerIsMaker, NpgsqlDbType.Boolean);
            await copy.WriteAsync(Utc(trade.ExchangeTime), NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(Utc(trade.ReceivedAt), NpgsqlDbType.TimestampTz);
        });
        await CopyAsync(connection, "COPY fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time) FROM STDIN (FORMAT BINARY)", chunk.OfType<FillCall>(), async (copy, call) =>
        {
            var fill = call.Fill;
            await copy.WriteAsync(fill.ParentId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(fill.ClientOrderId, NpgsqlDbType.Text);
            await copy.WriteAsync(fill.TradeId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(fill.Price, NpgsqlDbType.Numeric);
            await copy.WriteAsync(fill.Quantity, NpgsqlDbType.Numeric);
            await copy.WriteAsync(fill.Fee, NpgsqlDbType.Numeric);
            await (fill.FeeAsset is null ? copy.WriteNullAsync() : copy.WriteAsync(fill.FeeAsset, NpgsqlDbType.Text));
            await copy.WriteAsync(fill.IsMaker, NpgsqlDbType.Boolean);
            await copy.WriteAsync(Utc(fill.ExchangeTime), NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(Utc(fill.ReceivedAt), NpgsqlDbType.TimestampTz);
        });
        await CopyAsync(connection, "COPY mids (order_id, bid, ask, mid, exchange_time, received_time) FROM STDIN (FORMAT BINARY)", chunk.OfType<MidCall>(), async (copy, call) =>
        {
            var mid = call.Sample;
            await copy.WriteAsync(mid.ParentId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(mid.Bid, NpgsqlDbType.Numeric);
            await copy.WriteAsync(mid.Ask, NpgsqlDbType.Numeric);
            await copy.WriteAsync(mid.Mid, NpgsqlDbType.Numeric);
            await copy.WriteAsync(Utc(mid.ExchangeTime), NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(Utc(mid.ReceivedAt), NpgsqlDbType.TimestampTz);
        });
        await CopyAsync(connection, "COPY events (order_id, time, kind, client_order_id, price, qty, trigger, rule, finish_reason, detail, tick_to_order_us) FROM STDIN (FORMAT BINARY)", chunk.OfType<DecisionCall>(), async (copy, call) =>
        {
            var values = EventValues(call.Decision);
            await copy.WriteAsync(call.Decision.ParentId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(Utc(call.Decision.Time), NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(values.Kind, NpgsqlDbType.Text);
            await (values.ClientOrderId is null ? copy.WriteNullAsync() : copy.WriteAsync(values.ClientOrderId, NpgsqlDbType.Text));
            await (values.Price is { } price ? copy.WriteAsync(price, NpgsqlDbType.Numeric) : copy.WriteNullAsync());
            await (values.Quantity is { } qty ? copy.WriteAsync(qty, NpgsqlDbType.Numeric) : copy.WriteNullAsync());
            await copy.WriteAsync(values.Trigger, NpgsqlDbType.Text);
            await copy.WriteAsync(values.Rule, NpgsqlDbType.Text);
            await (values.FinishReason is null ? copy.WriteNullAsync() : copy.WriteAsync(values.FinishReason, NpgsqlDbType.Text));
            await (call.Decision.Command.Detail is null ? copy.WriteNullAsync() : copy.WriteAsync(call.Decision.Command.Detail, NpgsqlDbType.Text));
            await (call.Decision.TickToOrderMicroseconds is { } us ? copy.WriteAsync(us, NpgsqlDbType.Double) : copy.WriteNullAsync());
        });
        var inputs = counter.Rows(chunk);
        await CopyAsync(connection, "COPY order_inputs (order_id, time, kind, payload, decisions_before) FROM STDIN (FORMAT BINARY)", inputs, async (copy, row) =>
        {
            await copy.WriteAsync(row.OrderId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(row.Time, NpgsqlDbType.Bigint);
            await copy.WriteAsync(row.Kind, NpgsqlDbType.Text);
            await copy.WriteAsync(row.Payload, NpgsqlDbType.Text);
            await copy.WriteAsync(row.DecisionsBefore, NpgsqlDbType.Integer);
        });

        await using (var last = new NpgsqlBatch(connection, transaction))
        {
            foreach (var call in chunk)
            {
                if (call is CompletedCall completed)
                {
                    last.BatchCommands.Add(Command(CompletedSql, CompletedValues(completed.Result, Utc)));
                }
            }

            if (last.BatchCommands.Count > 0)
            {
                await last.ExecuteNonQueryAsync();
            }
        }

        await transaction.CommitAsync();
    }

    private static async Task CopyAsync<T>(NpgsqlConnection connection, string sql, IEnumerable<T> rows, Func<NpgsqlBinaryImporter, T, Task> write)
    {
        using var enumerator = rows.GetEnumerator();
        if (!enumerator.MoveNext())
        {
            return;
        }

        await using var copy = await connection.BeginBinaryImportAsync(sql);
        do
        {
            await copy.StartRowAsync();
            await write(copy, enumerator.Current);
        }
        while (enumerator.MoveNext());
        await copy.CompleteAsync();
    }

    private static NpgsqlBatchCommand Command(string sql, object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    private static DateTimeOffset Utc(DateTimeOffset time) => new(ChaserDb.ToStoredTicks(time), TimeSpan.Zero);

    // ------------------------------------------------------------------ the rows' values (shared by both databases)

    private const string StartedSql = """
        INSERT INTO orders (id, exchange, symbol, type, size, size_type, side, reduce_only, price_expected, strategy, deadline, deadline_action, time_limit_ms, min_reprice_interval_ms, status, created_at, started_at)
        VALUES ($1, 'binfut', $2, 'limit', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'working', $13, $13)
        ON CONFLICT (id) DO UPDATE SET status = 'working', status_detail = NULL, started_at = excluded.started_at
        WHERE orders.status IN ('new', 'working')
        """;

    private const string ChildSql = """
        INSERT INTO child_orders (order_id, client_order_id, exchange_order_id, sequence, type, price, qty, status, filled_qty, modifies, sent_at, acked_at, done_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (client_order_id) DO UPDATE SET
            exchange_order_id = CASE WHEN excluded.exchange_order_id <> 0 THEN excluded.exchange_order_id ELSE child_orders.exchange_order_id END,
            modifies = excluded.modifies,
            price = excluded.price, qty = excluded.qty, status = excluded.status, filled_qty = excluded.filled_qty,
            acked_at = COALESCE(child_orders.acked_at, excluded.acked_at),
            done_at = COALESCE(child_orders.done_at, excluded.done_at),
            updated_at = excluded.updated_at
        """;

    private const string CompletedSql = """
        UPDATE orders SET status = $1, status_detail = $2, completed_at = $3, started_at = COALESCE(started_at, $4),
            arrival_mid = $5, filled_qty = $6, filled_notional = $7, avg_price = $8, fees = $9,
            child_orders = $10, modifies = $11, cancels = $12, post_only_rejects = $13
        WHERE id = $14
        """;

    private static object?[] StartedValues(ParentOrderSpec spec, DateTimeOffset time, Func<DateTimeOffset, DateTimeOffset> utc) =>
    [
        spec.Id, spec.Symbol, spec.Size, spec.SizeType == SizeType.Notional ? "n" : "q", spec.Side.Sign(), spec.ReduceOnly, spec.PriceExpected, spec.Strategy,
        spec.Deadline is { } deadline ? utc(deadline) : null, spec.OnDeadline == DeadlineAction.TakeRemainder ? "take" : "cancel",
        spec.TimeLimit is { } limit ? (long)Math.Ceiling(limit.TotalMilliseconds) : null, OrderQueries.ToIntervalMs(spec.MinRepriceInterval), utc(time),
    ];

    private static object?[] ChildValues(ChildOrderSnapshot child, Func<DateTimeOffset, DateTimeOffset> utc) =>
    [
        child.ParentId, child.ClientOrderId, child.ExchangeOrderId, child.Sequence, child.OrderType == ChildOrderType.Market ? "market" : "post_only",
        child.Price, child.Quantity, ChildStatus(child), child.FilledQuantity, child.Modifies, utc(child.SentAt),
        child.ExchangeOrderId != 0 ? utc(child.Time) : null, child.State == ChildState.Final ? utc(child.Time) : null, utc(child.Time),
    ];

    private static object?[] CompletedValues(ExecutionResult result, Func<DateTimeOffset, DateTimeOffset> utc) =>
    [
        result.Status == FinishReason.Filled ? "filled" : result.Status.ToString().ToLowerInvariant(), result.Detail, utc(result.CompletedAt), utc(result.StartedAt),
        result.ArrivalMid, result.FilledQuantity, result.FilledNotional, result.AveragePrice, result.Fees, result.ChildOrders, result.Modifies, result.Cancels, result.PostOnlyRejects,
        result.Spec.Id,
    ];

    private static string ChildStatus(ChildOrderSnapshot child) => child.State switch
    {
        ChildState.Final when child.FilledQuantity >= child.Quantity && child.Quantity > 0 => "filled",
        ChildState.Final when child.ExchangeOrderId == 0 && child.FilledQuantity == 0 => "rejected",
        ChildState.Final => "closed",
        ChildState.Live => "live",
        ChildState.PendingNew => "pending_new",
        ChildState.PendingModify => "pending_modify",
        _ => ChaserDb.SnakeCase(child.State.ToString()),
    };

    private readonly record struct EventColumns(string Kind, string? ClientOrderId, decimal? Price, decimal? Quantity, string Trigger, string Rule, string? FinishReason);

    private static readonly string[] CommandKinds = Enum.GetNames<ChaserCommandKind>().Select(ChaserDb.SnakeCase).ToArray();
    private static readonly string[] Triggers = Enum.GetNames<EventKind>().Select(ChaserDb.SnakeCase).ToArray();
    private static readonly string[] Rules = Enum.GetNames<DecisionRule>().Select(ChaserDb.SnakeCase).ToArray();

    private static EventColumns EventValues(DecisionRecord decision)
    {
        var command = decision.Command;
        var isFinish = command.Kind == ChaserCommandKind.Finish;
        var priced = command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify;
        return new EventColumns(
            CommandKinds[(int)command.Kind],
            isFinish ? null : command.ClientOrderId,
            priced ? command.Price : null,
            priced ? command.Quantity : null,
            Triggers[(int)command.Cause.Trigger],
            Rules[(int)command.Cause.Rule],
            isFinish ? command.FinishReason.ToString().ToLowerInvariant() : null);
    }

    /// <summary>The order_inputs rows of a chunk, each with the count of its order's decisions before it (as the recorder counts).</summary>
    private sealed class DecisionCounter
    {
        private readonly Dictionary<long, int> _decisions = [];

        public List<OrderInputRow> Rows(Call[] chunk)
        {
            var rows = new List<OrderInputRow>();
            foreach (var call in chunk)
            {
                switch (call)
                {
                    case MachineStartedCall start:
                        _decisions[start.Start.Spec.Id] = 0;
                        rows.Add(new OrderInputRow { OrderId = start.Start.Spec.Id, Time = start.Start.StartedAt.UtcTicks, Kind = OrderInputs.StartKind, Payload = OrderInputs.EncodeStart(start.Start) });
                        break;
                    case InputCall input:
                        rows.Add(new OrderInputRow { OrderId = input.ParentId, Time = input.Time.UtcTicks, Kind = OrderInputs.KindOf(input.Input.Kind), Payload = OrderInputs.Encode(input.Input, input.Time), DecisionsBefore = _decisions.GetValueOrDefault(input.ParentId) });
                        break;
                    case DecisionCall decision when _decisions.TryGetValue(decision.Decision.ParentId, out var count):
                        _decisions[decision.Decision.ParentId] = count + 1;
                        break;
                    case CompletedCall completed:
                        _decisions.Remove(completed.Result.Spec.Id);
                        break;
                    default:
                        break;
                }
            }

            return rows;
        }
    }

    // ------------------------------------------------------------------ SQLite

    /// <summary>One prepared statement per table, made once for the connection and reused for every row.</summary>
    private sealed class SqliteStatements : IDisposable
    {
        private readonly SqliteCommand _started, _arrival, _child, _fill, _mid, _trade, _event, _input, _completed;

        public SqliteStatements(SqliteConnection connection)
        {
            _started = Prepare(connection, StartedSql, 13);
            _arrival = Prepare(connection, "UPDATE orders SET arrival_mid = $1 WHERE id = $2", 2);
            _child = Prepare(connection, ChildSql, 14);
            _fill = Prepare(connection, "INSERT INTO fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10);
            _mid = Prepare(connection, "INSERT INTO mids (order_id, bid, ask, mid, exchange_time, received_time) VALUES ($1, $2, $3, $4, $5, $6)", 6);
            _trade = Prepare(connection, "INSERT INTO market_trades (order_id, price, qty, buyer_is_maker, exchange_time, received_time) VALUES ($1, $2, $3, $4, $5, $6)", 6);
            _event = Prepare(connection, "INSERT INTO events (order_id, time, kind, client_order_id, price, qty, trigger, rule, finish_reason, detail, tick_to_order_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 11);
            _input = Prepare(connection, "INSERT INTO order_inputs (order_id, time, kind, payload, decisions_before) VALUES ($1, $2, $3, $4, $5)", 5);
            _completed = Prepare(connection, CompletedSql, 14);
        }

        public void Write(Call[] chunk, SqliteTransaction transaction, DecisionCounter counter)
        {
            foreach (var command in new[] { _started, _arrival, _child, _fill, _mid, _trade, _event, _input, _completed })
            {
                command.Transaction = transaction;
            }

            foreach (var call in chunk)
            {
                switch (call)
                {
                    case StartedCall started:
                        Run(_started, StartedValues(started.Spec, started.Time, t => t));
                        break;
                    case ArrivalMidCall arrival:
                        Run(_arrival, [arrival.Mid, arrival.ParentId]);
                        break;
                    default:
                        break;
                }
            }

            foreach (var call in chunk)
            {
                if (call is ChildCall child)
                {
                    Run(_child, ChildValues(child.Child, t => t));
                }
            }

            foreach (var call in chunk)
            {
                switch (call)
                {
                    case FillCall { Fill: var f }:
                        Run(_fill, [f.ParentId, f.ClientOrderId, f.TradeId, f.Price, f.Quantity, f.Fee, f.FeeAsset, f.IsMaker, f.ExchangeTime, f.ReceivedAt]);
                        break;
                    case MidCall { Sample: var m }:
                        Run(_mid, [m.ParentId, m.Bid, m.Ask, m.Mid, m.ExchangeTime, m.ReceivedAt]);
                        break;
                    case MarketTradeCall { Trade: var t }:
                        Run(_trade, [t.ParentId, t.Price, t.Quantity, t.BuyerIsMaker, t.ExchangeTime, t.ReceivedAt]);
                        break;
                    case DecisionCall { Decision: var d }:
                        var e = EventValues(d);
                        Run(_event, [d.ParentId, d.Time, e.Kind, e.ClientOrderId, e.Price, e.Quantity, e.Trigger, e.Rule, e.FinishReason, d.Command.Detail, d.TickToOrderMicroseconds]);
                        break;
                    default:
                        break;
                }
            }

            foreach (var row in counter.Rows(chunk))
            {
                Run(_input, [row.OrderId, row.Time, row.Kind, row.Payload, row.DecisionsBefore]);
            }

            foreach (var call in chunk)
            {
                if (call is CompletedCall completed)
                {
                    Run(_completed, CompletedValues(completed.Result, t => t));
                }
            }
        }

        public void Dispose()
        {
            foreach (var command in new[] { _started, _arrival, _child, _fill, _mid, _trade, _event, _input, _completed })
            {
                command.Dispose();
            }
        }

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, int parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 1; i <= parameters; i++)
            {
                command.Parameters.Add(new SqliteParameter("$" + i.ToString(CultureInfo.InvariantCulture), null));
            }

            command.Prepare();
            return command;
        }

        private static void Run(SqliteCommand command, object?[] values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters[i].Value = values[i] switch
                {
                    null => DBNull.Value,
                    decimal d => ChaserDb.ToStoredText(d),
                    DateTimeOffset t => ChaserDb.ToStoredTicks(t),
                    var v => v,
                };
            }

            command.ExecuteNonQuery();
        }
    }
}
