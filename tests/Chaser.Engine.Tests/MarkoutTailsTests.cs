using Chaser.Core.Market;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>The markout tail on its own: a finished order's mids keep being sampled until the tail runs out, then closed once.</summary>
public class MarkoutTailsTests
{
    private static readonly TimeSpan Tail = TimeSpan.FromSeconds(60);

    private long _updateId;

    [Fact]
    public void A_tail_samples_moved_mids_of_its_symbol_and_closes_with_the_quote_that_held()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var recorder = new ListRecorder();
        var tails = new MarkoutTails(recorder, time, Tail);
        var ended = time.GetUtcNow();

        // The move the last fill caused came after the order's loop stopped: recorded as the tail starts.
        tails.Start(1, "BTCUSDT", Book(65_000.3m, 65_000.4m, time), lastRecordedMid: 65_000.05m);
        Assert.Equal([65_000.35m], recorder.Mids.Select(m => m.Mid));
        Assert.Equal(1, tails.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        tails.Sample("BTCUSDT", Book(65_000.5m, 65_000.6m, time));
        tails.Sample("BTCUSDT", Book(65_000.5m, 65_000.6m, time)); // unchanged: no sample
        tails.Sample("ETHUSDT", Book(3_000.0m, 3_000.1m, time)); // another symbol's
        Assert.Equal([65_000.35m, 65_000.55m], recorder.Mids.Select(m => m.Mid));

        // Past the tail: the next book closes it with the quote known to hold, stamped at the tail's end; then nothing.
        time.Advance(Tail);
        tails.Sample("BTCUSDT", Book(64_990.0m, 64_990.1m, time));
        var closing = recorder.Mids[^1];
        Assert.Equal((1L, 65_000.55m, ended + Tail, ended + Tail), (closing.ParentId, closing.Mid, closing.ExchangeTime, closing.ReceivedAt));
        Assert.Equal(0, tails.Count);
        tails.Sample("BTCUSDT", Book(64_980.0m, 64_980.1m, time));
        tails.CloseAll();
        Assert.Equal(3, recorder.Mids.Count);
    }

    [Fact]
    public void A_tail_whose_feed_went_quiet_is_closed_by_the_housekeeping_and_a_stop_closes_the_rest()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var recorder = new ListRecorder();
        var tails = new MarkoutTails(recorder, time, Tail);
        tails.Start(1, "BTCUSDT", Book(65_000.0m, 65_000.1m, time), lastRecordedMid: 65_000.05m);
        time.Advance(TimeSpan.FromSeconds(30));
        tails.Start(2, "ETHUSDT", Book(3_000.0m, 3_000.1m, time), lastRecordedMid: 3_000.05m);
        Assert.Empty(recorder.Mids);

        time.Advance(TimeSpan.FromSeconds(31));
        tails.CloseExpired();
        Assert.Equal([1L], recorder.Mids.Select(m => m.ParentId));

        tails.CloseAll(); // the host stops: stamped now, within its tail
        Assert.Equal((2L, 3_000.05m, time.GetUtcNow()), (recorder.Mids[^1].ParentId, recorder.Mids[^1].Mid, recorder.Mids[^1].ReceivedAt));
        Assert.Equal(0, tails.Count);
    }

    [Fact]
    public void No_tail_without_a_length_or_a_sane_book()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var recorder = new ListRecorder();
        var off = new MarkoutTails(recorder, time, TimeSpan.Zero);
        off.Start(1, "BTCUSDT", Book(65_000.0m, 65_000.1m, time), lastRecordedMid: 0m);
        var on = new MarkoutTails(recorder, time, Tail);
        on.Start(2, "BTCUSDT", null, lastRecordedMid: 0m);
        on.Start(3, "BTCUSDT", Book(65_000.1m, 65_000.0m, time), lastRecordedMid: 0m); // crossed
        Assert.Equal((0, 0), (off.Count, on.Count));
        Assert.Empty(recorder.Mids);
    }

    private BookTop Book(decimal bid, decimal ask, TimeProvider time) => new(bid, 1m, ask, 1m, ++_updateId, time.GetUtcNow());
}
