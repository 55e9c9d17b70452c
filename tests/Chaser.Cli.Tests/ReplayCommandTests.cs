using System.Globalization;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Cli.Tests;

/// <summary>`chaser replay --order N` over a real `chaser demo` run recorded in SQLite.</summary>
public class ReplayCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_demo_order_replays_to_its_recorded_decisions()
    {
        var database = await DemoAsync();

        await using var db = new ChaserDb(database);
        foreach (var id in new long[] { 1, 2, 3 })
        {
            var replay = await CliRunner.RunAsync(null, "replay", "--order", id.ToString(CultureInfo.InvariantCulture), "--db", database);

            Assert.True(replay.ExitCode == 0, $"replay {id}: exit {replay.ExitCode}: {replay.Output}{replay.Error}");
            var decisions = await db.Events.CountAsync(e => e.OrderId == id, Ct);
            var inputs = await db.OrderInputs.CountAsync(i => i.OrderId == id && i.Kind != OrderInputs.StartKind, Ct);
            Assert.True(decisions >= 2, $"order {id} has {decisions} decisions");
            Assert.Contains($"order {id} (", replay.Output, StringComparison.Ordinal);
            Assert.Contains($"{inputs:N0} inputs replayed: the same {decisions:N0} decisions", replay.Output, StringComparison.Ordinal);
            Assert.All(Lines(replay.Output), line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
            Assert.Equal("", replay.Error);
        }
    }

    [Fact]
    public async Task A_changed_fill_quantity_is_the_divergence_right_after_that_fill()
    {
        var database = await DemoAsync();
        long order = 0;
        var position = 0;
        await using (var db = new ChaserDb(database))
        {
            // A demo order that reached its target on its last fill: its finish is the decision that follows that input.
            foreach (var id in new long[] { 2, 3, 1 })
            {
                var rows = await db.OrderInputs.Where(i => i.OrderId == id).OrderBy(i => i.Id).ToListAsync(Ct);
                var decisions = await db.Events.CountAsync(e => e.OrderId == id, Ct);
                var fill = rows.FindLastIndex(r => r.Kind == "fill");
                if (fill < 0 || rows[fill].DecisionsBefore != decisions - 1 || (fill + 1 < rows.Count && rows[fill + 1].DecisionsBefore != decisions))
                {
                    continue;
                }

                // Half the fill's quantity, and the child's executed quantity the exchange reported with it less as much
                // (the chaser counts that as committed: a smaller fill alone would not change what it does, it never
                // over-fills): the order is no longer filled after it.
                var fields = rows[fill].Payload.Split(' ');
                var half = decimal.Parse(fields[3], CultureInfo.InvariantCulture) / 2;
                fields[3] = half.ToString(CultureInfo.InvariantCulture);
                fields[7] = (decimal.Parse(fields[7], CultureInfo.InvariantCulture) - half).ToString(CultureInfo.InvariantCulture);
                rows[fill].Payload = string.Join(' ', fields);
                await db.SaveChangesAsync(Ct);
                (order, position) = (id, fill); // the start is row 0, the first input 1
                break;
            }
        }

        Assert.True(order != 0, "no demo order finished on a fill");
        var replay = await CliRunner.RunAsync(null, "replay", "--order", order.ToString(CultureInfo.InvariantCulture), "--db", database);

        Assert.Equal(1, replay.ExitCode);
        Assert.Contains($"after input {position} (fill at ", replay.Output, StringComparison.Ordinal);
        Assert.Contains("\n  expected: Finish Filled (Fill/TargetReached)", replay.Output, StringComparison.Ordinal);
        Assert.Contains("\n  got:      ", replay.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("got:      Finish Filled", replay.Output, StringComparison.Ordinal);
        Assert.All(Lines(replay.Output), line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));

        // The other orders' inputs are untouched.
        var other = order == 1 ? "2" : "1";
        Assert.Equal(0, (await CliRunner.RunAsync(null, "replay", "--order", other, "--db", database)).ExitCode);
    }

    [Fact]
    public async Task An_order_that_cannot_be_replayed_is_refused_on_one_line_naming_the_reason()
    {
        var database = await DemoAsync();
        await using (var db = new ChaserDb(database))
        {
            // Order 3 as a database before schema 7 holds it: no inputs. Order 4 is new (created, never worked).
            await db.OrderInputs.Where(i => i.OrderId == 3).ExecuteDeleteAsync(Ct);
            db.Orders.Add(new OrderRow { Id = 4, Symbol = "BTCUSDT", Size = 1m, SizeType = "q", Side = 1, CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(Ct);
        }

        (string Expected, string[] Args)[] cases =
        [
            ("chaser replay: option '--order': order 3 was recorded before inputs were (schema 7): nothing to replay", ["--order", "3", "--db", database]),
            ("chaser replay: option '--order': order 4 has not started working (new): nothing to replay", ["--order", "4", "--db", database]),
            ("chaser replay: option '--order': no order 99 in SQLite ", ["--order", "99", "--db", database]),
            ("chaser replay: option '--order' must be a whole number from 1 to 2147483647, got 'x'", ["--order", "x", "--db", database]),
            ("chaser replay: option '--order' must be a whole number from 1 to 2147483647, got '1.5'", ["--order", "1.5", "--db", database]),
            ("chaser replay: option '--order' is required", ["--db", database]),
            ("chaser replay: option '--order' is given twice", ["--order", "1", "--order", "2", "--db", database]),
        ];
        foreach (var (expected, args) in cases)
        {
            var outcome = await CliRunner.RunAsync(null, ["replay", .. args]);

            Assert.True(outcome.ExitCode == 2, $"{string.Join(' ', args)}: exit {outcome.ExitCode}: {outcome.Output}{outcome.Error}");
            Assert.StartsWith(expected, outcome.Error, StringComparison.Ordinal);
            Assert.Single(Lines(outcome.Error));
            Assert.Equal("", outcome.Output);
        }

        // A damaged input row names itself instead of a stack trace.
        await using (var db = new ChaserDb(database))
        {
            var row = await db.OrderInputs.Where(i => i.OrderId == 1 && i.Kind == "book_top").OrderBy(i => i.Id).FirstAsync(Ct);
            row.Payload = "65000.0 1,5 65000.1";
            await db.SaveChangesAsync(Ct);
        }

        var damaged = await CliRunner.RunAsync(null, "replay", "--order", "1", "--db", database);
        Assert.Equal(2, damaged.ExitCode);
        Assert.StartsWith("chaser replay: option '--order': input ", damaged.Error, StringComparison.Ordinal);
        Assert.Contains("of order 1 (book_top '65000.0 1,5 65000.1') can't be read", damaged.Error, StringComparison.Ordinal);
        Assert.Single(Lines(damaged.Error));

        // A cancel budget is 0 or 1, nothing else; a timer carries no fields.
        (string Kind, string Payload, string Reason)[] bad =
        [
            ("cancel_budget", "yes", "'yes' is not 0 or 1"),
            ("cancel_budget", "", "'' is not 0 or 1"),
            ("timer", "1 2", "1 fields expected, got 2"),
        ];
        foreach (var (kind, payload, reason) in bad)
        {
            var row = new OrderInputRow { OrderId = 2, Kind = kind, Payload = payload };
            await using (var db = new ChaserDb(database))
            {
                var last = await db.OrderInputs.Where(i => i.OrderId == 2).OrderBy(i => i.Id).LastAsync(Ct);
                (row.Time, row.DecisionsBefore) = (last.Time, last.DecisionsBefore);
                db.OrderInputs.Add(row);
                await db.SaveChangesAsync(Ct);
            }

            var refused = await CliRunner.RunAsync(null, "replay", "--order", "2", "--db", database);
            Assert.True(refused.ExitCode == 2, $"{kind} '{payload}': exit {refused.ExitCode}: {refused.Output}{refused.Error}");
            Assert.Contains($"of order 2 ({kind} '{payload}') can't be read: {reason}", refused.Error, StringComparison.Ordinal);
            Assert.Single(Lines(refused.Error));
            Assert.Equal("", refused.Output);

            await using (var db = new ChaserDb(database))
            {
                await db.OrderInputs.Where(i => i.Id == row.Id).ExecuteDeleteAsync(Ct);
            }
        }
    }

    private static async Task<string> DemoAsync()
    {
        var directory = Directory.CreateTempSubdirectory("chaser-replay-").FullName;
        var database = "Data Source=" + Path.Combine(directory, "chaser.db");
        var demo = await CliRunner.RunAsync(null, "demo", "--db", database);
        Assert.True(demo.ExitCode == 0, $"demo: exit {demo.ExitCode}: {demo.Error}");
        return database;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}
