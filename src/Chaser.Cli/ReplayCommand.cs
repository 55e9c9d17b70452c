using System.CommandLine;
using System.Globalization;
using System.Text;
using Chaser.Core.Replay;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser replay --order N</c>: re-runs a recorded parent order's state machine from the database — built from its
/// recorded start, fed its recorded inputs with their times — and shows that it makes the recorded decisions, or where
/// it first does not.
/// </summary>
internal static class ReplayCommand
{
    private const int Width = 80;

    private static readonly Option<int?> Order = Required(CliOption.Whole("--order", "N", 1, int.MaxValue, "the parent order to replay"));
    private static readonly Option<string?> Database = CliOption.Database("the database the order was recorded in");

    public static readonly Command Definition = new("replay", "re-run a recorded order's chaser from its recorded inputs and compare its decisions")
    {
        Order, Database,
    };

    public const string Notes = """
          Exit code 0 when every decision is the same, 1 at the first that is not (input 0 is the start), 2 for an
          unknown order, one not started, or one recorded before inputs were (the database keeps them since schema 7).
          The symbol's cancellation-ratio budget, shared by its orders, reaches each order as an input and is replayed
          as one.
        """;

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var id = args.GetValue(Order) ?? throw new UsageException("option '--order' is required");
        var database = Recording.ConnectionString(args.GetValue(Database), context.Environment);
        await Recording.MigrateAsync(database, context.Stop).ConfigureAwait(false);

        await using var db = new ChaserDb(database);
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, context.Stop).ConfigureAwait(false)
            ?? throw new UsageException($"option '--order': no order {id} in {Recording.Describe(database)}");
        if (order.StartedAt is null)
        {
            throw new UsageException($"option '--order': order {id} has not started working ({order.Status}): nothing to replay");
        }

        ReplayStart? start;
        List<ReplayInput> inputs;
        List<RecordedDecision> decisions;
        try
        {
            (start, inputs) = await OrderInputs.LoadAsync(db, id, context.Stop).ConfigureAwait(false);
            decisions = start is null ? [] : await OrderInputs.LoadDecisionsAsync(db, id, start.StartedAt, context.Stop).ConfigureAwait(false);
        }
        catch (OrderInputException e)
        {
            throw new UsageException($"option '--order': {e.Message}");
        }

        if (start is null)
        {
            throw new UsageException($"option '--order': order {id} was recorded before inputs were (schema 7): nothing to replay");
        }

        var result = OrderReplay.Run(start, inputs, decisions);
        var side = start.Spec.Side == Core.Domain.Side.Buy ? "buy" : "sell";
        var lines = new List<string>();
        var heading = $"order {id} ({start.Spec.Symbol} {side}, {order.Status}): {Count(result.Inputs, "input")} replayed";
        if (result.Divergence is not { } divergence)
        {
            lines.AddRange(Wrap($"{heading}: the same {Count(result.SameDecisions, "decision")}", ""));
            if (!result.RecordingComplete)
            {
                lines.AddRange(Wrap(
                    $"the recording ends before the order finished (the process stopped while it worked); it was closed {order.Status}" +
                    (order.StatusDetail is { Length: > 0 } detail ? $": {detail}" : ""), "  "));
            }
        }
        else
        {
            var at = divergence.Input == 0 ? "the start" : $"input {divergence.Input} ({Describe(inputs[divergence.Input - 1])})";
            lines.AddRange(Wrap($"{heading}: the same {Count(result.SameDecisions, "decision")}, then decision {divergence.Decision} differs, after {at}:", ""));
            if (divergence is { Expected: null, Got: null })
            {
                lines.AddRange(Wrap($"the replayed order finished there; {Count(inputs.Count - divergence.Input, "more input")} were recorded", "  "));
            }
            else
            {
                lines.AddRange(Wrap(divergence.Expected?.ToString() ?? "nothing", "  expected: ", "              "));
                lines.AddRange(Wrap(divergence.Got?.ToString() ?? "nothing", "  got:      ", "              "));
            }
        }

        foreach (var line in lines)
        {
            await context.Output.WriteLineAsync(line).ConfigureAwait(false);
        }

        return result.Same ? 0 : OrderSession.ExitFailed;
    }

    private static Option<T> Required<T>(Option<T> option)
    {
        option.Required = true;
        return option;
    }

    private static string Count(int n, string noun) => string.Create(CultureInfo.InvariantCulture, $"{n:N0} {noun}{(n == 1 ? "" : "s")}");

    private static string Describe(in ReplayInput input) =>
        string.Create(CultureInfo.InvariantCulture, $"{OrderInputs.KindOf(input.Input.Kind)} at {input.Time.UtcDateTime:HH:mm:ss.fffffff}Z");

    /// <summary>
    /// Breaks <paramref name="text"/> at spaces into lines of at most 80 columns after <paramref name="indent"/> (the
    /// first line's) or <paramref name="continuation"/> (the others'); a word longer than a line is cut.
    /// </summary>
    private static IEnumerable<string> Wrap(string text, string indent, string? continuation = null)
    {
        continuation ??= indent + "  ";
        var line = new StringBuilder(indent);
        var empty = true;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var rest = word;
            while (true)
            {
                var room = Width - line.Length - (empty ? 0 : 1);
                if (rest.Length <= room)
                {
                    line.Append(empty ? "" : " ").Append(rest);
                    empty = false;
                    break;
                }

                if (!empty)
                {
                    yield return line.ToString();
                    line.Clear().Append(continuation);
                    empty = true;
                    continue;
                }

                line.Append(rest.AsSpan(0, room));
                rest = rest[room..];
                yield return line.ToString();
                line.Clear().Append(continuation);
            }
        }

        if (!empty)
        {
            yield return line.ToString();
        }
    }
}
