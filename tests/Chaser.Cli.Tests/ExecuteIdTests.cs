using Chaser.Simulator.Server;
using Chaser.Storage;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Cli.Tests;

/// <summary><c>chaser execute --id N</c> works an order once and never rewrites another order's record.</summary>
public class ExecuteIdTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_id_of_a_finished_order_is_refused_and_its_record_is_kept()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Seed = 3 }, Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-id-{Guid.NewGuid():N}.db");
        string[] execute = ["execute", "--db", database, "--rest-url", sim.RestBaseUrl.ToString(), "--ws-url", sim.WebSocketBaseUrl.ToString(), "--id", "7"];

        var first = await CliRunner.RunAsync(null, [.. execute, "--symbol", "SOLUSDT", "--side", "sell", "--quantity", "3", "--json"]);
        Assert.True(first.ExitCode == 0, $"exit {first.ExitCode}: {first.Error}");
        var (before, fillsBefore) = await ReadAsync(database, 7);

        var again = await CliRunner.RunAsync(null, [.. execute, "--symbol", "SOLUSDT", "--side", "sell", "--quantity", "3"]);
        var other = await CliRunner.RunAsync(null, [.. execute, "--symbol", "ETHUSDT", "--side", "buy", "--quantity", "0.5"]);

        foreach (var refused in new[] { again, other })
        {
            Assert.Equal(2, refused.ExitCode);
            Assert.Equal("chaser execute: option '--id': order 7 is filled; only a new order can be executed (an order is executed once)", refused.Error.Trim());
        }

        var (after, fillsAfter) = await ReadAsync(database, 7);
        Assert.Equal((before.Symbol, before.Side, before.Size, before.Status, before.FilledQty, before.CompletedAt), (after.Symbol, after.Side, after.Size, after.Status, after.FilledQty, after.CompletedAt));
        Assert.Equal(fillsBefore, fillsAfter);
        Assert.Equal(3m, sim.Engine.GetUserTrades("SOLUSDT", limit: 1000).Sum(t => t.Qty));
        Assert.Empty(sim.Engine.GetUserTrades("ETHUSDT", limit: 1000));
    }

    [Fact]
    public async Task A_new_stored_order_is_worked_only_as_stored()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Seed = 3 }, Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-id-{Guid.NewGuid():N}.db");
        await using (var db = new ChaserDb(database))
        {
            await DatabaseMigrator.MigrateAsync(db, Ct);
            db.Orders.Add(new OrderRow { Id = 9, Symbol = "SOLUSDT", Side = -1, Size = 2m, SizeType = "q", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(Ct);
        }

        string[] execute = ["execute", "--db", database, "--rest-url", sim.RestBaseUrl.ToString(), "--ws-url", sim.WebSocketBaseUrl.ToString(), "--id", "9"];
        var mismatch = await CliRunner.RunAsync(null, [.. execute, "--symbol", "SOLUSDT", "--side", "sell", "--quantity", "20"]);
        Assert.Equal(2, mismatch.ExitCode);
        Assert.Equal("chaser execute: option '--id': order 9 is stored as #9: sell 2 SOLUSDT; give the same order or leave out --id", mismatch.Error.Trim());
        Assert.Equal(OrderStatus.New, (await ReadAsync(database, 9)).Order.Status);

        var run = await CliRunner.RunAsync(null, [.. execute, "--symbol", "SOLUSDT", "--side", "sell", "--quantity", "2", "--json"]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Error}");
        var (order, fills) = await ReadAsync(database, 9);
        Assert.Equal(OrderStatus.Filled, order.Status);
        Assert.Equal(2m, order.FilledQty);
        Assert.Equal(sim.Engine.GetUserTrades("SOLUSDT", limit: 1000).Select(t => t.TradeId).Order(), fills);
    }

    [Fact]
    public async Task The_same_new_id_given_by_several_executes_at_once_is_stored_once_and_none_crashes()
    {
        // Two terminals run `chaser execute --id 11 …` at once: both find no order 11 and both insert it. The loser
        // must see the winner's row (and then lose the claim with exit 2), not die on a unique-key violation.
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-id-{Guid.NewGuid():N}.db");
        await Recording.MigrateAsync(database, Ct);
        var spec = new Core.Domain.ParentOrderSpec(11, "SOLUSDT", Core.Domain.Side.Sell, Core.Domain.SizeType.Quantity, 3m);

        using var start = new Barrier(8);
        var attempts = Enumerable.Range(0, 8).Select(_ => Task.Run(
            async () =>
            {
                start.SignalAndWait(Ct);
                return await Recording.UseIdAsync(database, spec, TimeProvider.System, Ct);
            },
            Ct)).ToArray();
        var used = await Task.WhenAll(attempts);

        Assert.All(used, u => Assert.Equal((11L, "SOLUSDT", 3m), (u.Id, u.Symbol, u.Size)));
        await using var db = new ChaserDb(database);
        Assert.Equal(1, await db.Orders.CountAsync(Ct));
    }

    [Fact]
    public async Task An_id_given_by_hand_on_PostgreSQL_never_moves_the_id_sequence_back_under_an_order_being_created()
    {
        await using var postgres = await TestDatabase.CreateAsync(DatabaseProvider.PostgreSql);
        var database = postgres.ConnectionString;
        Core.Domain.ParentOrderSpec Sell(long id) => new(id, "SOLUSDT", Core.Domain.Side.Sell, Core.Domain.SizeType.Quantity, 3m);
        await Recording.CreateOrdersAsync(database, [Sell(1), Sell(1), Sell(1)], TimeProvider.System, Ct);
        await using (var db = new ChaserDb(database))
        {
            await db.Orders.Where(o => o.Id == 2).ExecuteDeleteAsync(Ct);
        }

        // Another process is storing an order: it drew id 4 from the sequence and has not committed yet.
        await using var other = new ChaserDb(database);
        await using var pending = await other.Database.BeginTransactionAsync(Ct);
        var inFlight = new OrderRow { Symbol = "SOLUSDT", Side = -1, Size = 1m, SizeType = "q", CreatedAt = DateTimeOffset.UtcNow };
        other.Orders.Add(inFlight);
        await other.SaveChangesAsync(Ct);

        // `execute --id 2` fills the gap meanwhile; then the other order commits and a third process stores one more.
        Assert.Equal(2, (await Recording.UseIdAsync(database, Sell(2), TimeProvider.System, Ct)).Id);
        await pending.CommitAsync(Ct);
        var next = await Recording.CreateOrdersAsync(database, [Sell(1)], TimeProvider.System, Ct);

        Assert.True(next[0].Id > inFlight.Id, $"order got id {next[0].Id}, at or below {inFlight.Id} which the sequence had already handed out");
    }

    private static async Task<(OrderRow Order, long[] Fills)> ReadAsync(string database, long id)
    {
        await using var db = new ChaserDb(database);
        var order = await db.Orders.Include(o => o.Fills).AsNoTracking().SingleAsync(o => o.Id == id, Ct);
        return (order, [.. order.Fills.Select(f => f.TradeId).Order()]);
    }
}
