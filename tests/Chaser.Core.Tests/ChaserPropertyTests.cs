using CsCheck;

namespace Chaser.Core.Tests;

/// <summary>
/// Properties over random worlds (books, fills, rejects, unknown outcomes, duplicated and reordered events, outages):
/// at most one live child; never a post-only price that crosses the book the chaser saw; never an overfill beyond one
/// child's rounding; every fill counted exactly once; finishing as filled when, and only when, the remainder can't
/// be posted. Each world is replayable from its seed.
/// </summary>
public class ChaserPropertyTests
{
    [Fact]
    public void Invariants_hold_over_random_worlds()
    {
        Gen.Int.Sample(seed => new RandomWorld(seed).Run(steps: 400), iter: 400, threads: 1);
    }

    [Fact]
    public void Invariants_hold_where_a_tick_is_worth_more_than_a_lot_step()
    {
        // A notional order re-priced while its old order still fills at the old price overspends by what filled times
        // the price step; on BTC that is far inside a lot step's value, on DOGE it is not.
        Gen.Int.Sample(seed => new RandomWorld(seed, WorldMarket.Doge).Run(steps: 400), iter: 400, threads: 1);
    }

    [Fact]
    public void A_step_back_and_the_vacated_price_a_book_of_the_same_millisecond_shows_do_not_follow_each_other()
    {
        // Seed -5270: a sell steps back to the next level, the accept and the book share a millisecond, the book still
        // shows our order at the price we left and the chaser went back to it; then stepped back again, on every
        // accept with no time passing (millions of modifies; Binance allows 10,000 per order).
        new RandomWorld(-5_270).Run(steps: 400);
    }

    [Fact]
    public void A_modify_is_sized_for_fills_still_on_their_way_from_an_earlier_higher_price()
    {
        // Seed -25040 on DOGE: a buy modified down, then up to a price below the first; fills of the first price
        // arrived after both accepts. Sized at the child's current price, it spent 21,565.159 of 21,565 USDT.
        new RandomWorld(-25_040, WorldMarket.Doge).Run(steps: 400);
    }

    [Fact]
    public void Long_worlds_keep_the_invariants()
    {
        Gen.Int.Sample(seed => new RandomWorld(seed).Run(steps: 4_000), iter: 40, threads: 1);
    }

    [Fact]
    public void The_same_seed_gives_the_same_decisions()
    {
        Gen.Int.Sample(
            seed =>
            {
                var first = new RandomWorld(seed);
                first.Run(300);
                var second = new RandomWorld(seed);
                second.Run(300);
                return first.Machine.FilledQuantity == second.Machine.FilledQuantity
                    && first.Machine.Children.Count == second.Machine.Children.Count
                    && first.Machine.Modifies == second.Machine.Modifies
                    && first.Machine.FinishReason == second.Machine.FinishReason;
            },
            iter: 50,
            threads: 1);
    }
}

public class RandomWorldCoverageTests
{
    [Fact]
    public void Random_worlds_exercise_re_pricing_rejections_and_partial_fills()
    {
        int modifies = 0, cancels = 0, rejects = 0, children = 0, fills = 0;
        for (var seed = 6_000; seed < 10_000; seed++)
        {
            var world = new RandomWorld(seed);
            world.Run(400);
            modifies += world.Machine.Modifies;
            cancels += world.Machine.Cancels;
            rejects += world.Machine.PostOnlyRejects;
            children += world.Machine.Children.Count;
            fills += world.Machine.FillCount;
        }

        // The properties mean little unless the worlds reach the interesting paths.
        Assert.True(modifies > 100, $"modifies {modifies}");
        Assert.True(cancels > 50, $"cancels {cancels}");
        Assert.True(rejects > 5, $"post-only rejects {rejects}");
        Assert.True(children > 200, $"children {children}");
        Assert.True(fills > 1_000, $"fills {fills}");
    }
}
