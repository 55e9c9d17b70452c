using System.Globalization;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Engine;
using Spectre.Console;

namespace Chaser.Cli;

/// <summary>
/// One order as the progress display shows it: from its final result once it has one, else from the engine's live
/// progress, else waiting. The display's last frame is drawn from the results, so it never ends on a stale state.
/// </summary>
internal sealed record ProgressRow(ParentOrderSpec Spec, string State, decimal Done, decimal? Resting, decimal? Best, int Fills)
{
    public static ProgressRow Of(ParentOrderSpec spec, ExecutionProgress? progress, ExecutionResult? result)
    {
        if (result is not null)
        {
            return new ProgressRow(spec, ResultJson.StatusName(result.Status), Filled(spec, result.FilledQuantity, result.FilledNotional), null, null, result.Fills.Count);
        }

        if (progress is null)
        {
            return new ProgressRow(spec, "waiting", 0m, null, null, 0);
        }

        var state = progress.Status switch
        {
            ParentStatus.Working => "working",
            ParentStatus.Stopping => "stopping",
            _ => "ending",
        };
        return new ProgressRow(spec, state, Filled(spec, progress.FilledQuantity, progress.FilledNotional), progress.RestingPrice, progress.BestPrice > 0 ? progress.BestPrice : null, progress.Fills);
    }

    public string Unit => Spec.SizeType == SizeType.Notional ? "USDT" : SymbolAssets.BaseAsset(Spec.Symbol);

    public string Percent => (Spec.Size == 0 ? 0m : Done / Spec.Size * 100m).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>
    /// One line for redirected progress (a log, not a table), fitted to <paramref name="width"/> like the tables:
    /// <c>#1 BTCUSDT buy 1,170 / 15,000 USDT (7.8%) working, resting 65,000, best 65,000, fills 1</c>.
    /// </summary>
    public string Line(int width) => FittedTable.Line(
        [
            ("#" + Display.Count(Spec.Id), FitColumn<ProgressRow>.Kept),
            (Spec.Symbol, 1),
            (Display.Side(Spec.Side), FitColumn<ProgressRow>.Kept),
            (Display.Number(Done), FitColumn<ProgressRow>.Kept),
            ("/ " + Display.Number(Spec.Size), 2),
            (Unit, FitColumn<ProgressRow>.Kept),
            ($"({Percent})", FitColumn<ProgressRow>.Kept),
            (State, FitColumn<ProgressRow>.Kept),
            (Resting is null ? "" : $", resting {Display.Number(Resting)}", 3),
            (Best is null ? "" : $", best {Display.Number(Best)}", 5),
            ($", fills {Display.Count(Fills)}", 4),
        ],
        width);

    private static decimal Filled(ParentOrderSpec spec, decimal quantity, decimal notional) => spec.SizeType == SizeType.Notional ? notional : quantity;
}

/// <summary>The live progress table, fitted to the console like the result table (one line per order, nothing wrapped).</summary>
internal static class ProgressView
{
    // What the chaser is doing is the resting price: it goes after the progress itself, the fill count and the best price.
    private static readonly FitColumn<ProgressRow>[] Columns =
    [
        new("id", FitColumn<ProgressRow>.Kept, r => Display.Count(r.Spec.Id)),
        new("symbol", 1, r => r.Spec.Symbol),
        new("side", FitColumn<ProgressRow>.Kept, r => Display.Side(r.Spec.Side)),
        new("filled / target", "filled", FitColumn<ProgressRow>.Kept, r => $"{Display.Number(r.Done)} / {Display.Number(r.Spec.Size)} {r.Unit}"),
        new("%", FitColumn<ProgressRow>.Kept, r => r.Percent),
        new("status", FitColumn<ProgressRow>.Kept, r => r.State),
        new("resting", 2, r => Display.Number(r.Resting)),
        new("best", 4, r => Display.Number(r.Best)),
        new("fills", 3, r => Display.Count(r.Fills)),
    ];

    public static Table Render(IReadOnlyList<ProgressRow> rows, int width, bool finished) =>
        FittedTable.Build(Columns, rows, width, null).Title(finished ? "finished" : "working");
}
