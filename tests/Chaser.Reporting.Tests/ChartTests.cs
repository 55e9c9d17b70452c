using Chaser.Storage;
using SkiaSharp;

namespace Chaser.Reporting.Tests;

/// <summary>What the order chart draws: child orders (a rejected one never as resting), distinct time labels, the theme.</summary>
public class ChartTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_child_the_exchange_rejected_is_a_mark_where_it_was_sent_not_a_resting_segment()
    {
        // Child 1 rests at 100.0, is modified to 100.1, canceled at +2 s. Child 2 (post-only, it would have crossed) is
        // rejected 20 ms after it was sent. Child 3 rests at 100.2 until the order ends at +4 s, its row not yet stored.
        var execution = Execution(
            [
                Event(0, "place", "c1", 100.0m), Event(1, "modify", "c1", 100.1m), Event(2, "cancel", "c1", null),
                Event(2.1, "place", "c2", 100.3m), Event(2.5, "place", "c3", 100.2m),
            ],
            [
                new ChildOrderRow { ClientOrderId = "c1", Status = "closed", Price = 100.1m, SentAt = T0, AckedAt = T0.AddSeconds(0.01), DoneAt = T0.AddSeconds(2.02) },
                new ChildOrderRow { ClientOrderId = "c2", Status = "rejected", Price = 100.3m, SentAt = T0.AddSeconds(2.1), DoneAt = T0.AddSeconds(2.12) },
            ]);

        var segments = ExecutionChart.ChildSegments(execution, T0.AddSeconds(4));

        Assert.Equal(["c1", "c2", "c3"], segments.Select(s => s.ClientOrderId));
        Assert.False(segments[0].Rejected);
        Assert.Equal([(T0, 100.0m), (T0.AddSeconds(1), 100.1m), (T0.AddSeconds(2.02), 100.1m)], segments[0].Points);

        // Before, this child was drawn as resting at 100.3 from +2.1 s to +2.12 s: a price we never held.
        Assert.True(segments[1].Rejected);
        Assert.Equal([(T0.AddSeconds(2.1), 100.3m)], segments[1].Points);

        Assert.False(segments[2].Rejected);
        Assert.Equal([(T0.AddSeconds(2.5), 100.2m), (T0.AddSeconds(4), 100.2m)], segments[2].Points);
    }

    [Theory]
    [InlineData(0.3, 8)]
    [InlineData(3, 8)] // a 3 s order: its window, with the chart's 1 s margins, is 5 s
    [InlineData(5, 8)]
    [InlineData(5, 12)]
    [InlineData(61, 8)]
    [InlineData(3_600, 8)]
    [InlineData(86_400 * 3, 8)]
    public void Time_labels_are_distinct_and_in_order_whatever_the_window(double seconds, int most)
    {
        foreach (var start in new[] { T0.UtcDateTime.AddMilliseconds(123), new DateTime(2026, 11, 30, 23, 59, 58, 700, DateTimeKind.Utc) })
        {
            var ticks = TimeTickGenerator.For(start, start.AddSeconds(seconds), most);

            Assert.InRange(ticks.Count, 2, most);
            Assert.Equal(ticks.Count, ticks.Select(t => t.Label).Distinct().Count());
            Assert.All(ticks, t => Assert.InRange(t.Time, start, start.AddSeconds(seconds)));
            Assert.Equal(ticks.OrderBy(t => t.Time), ticks);
        }
    }

    [Fact]
    public void Time_labels_at_the_ends_of_the_calendar_or_of_no_width_are_few_not_a_crash()
    {
        Assert.NotEmpty(TimeTickGenerator.For(DateTime.MaxValue.AddYears(-5), DateTime.MaxValue, 8));
        Assert.NotEmpty(TimeTickGenerator.For(DateTime.MaxValue.AddMilliseconds(-30), DateTime.MaxValue, 8));
        Assert.NotEmpty(TimeTickGenerator.For(DateTime.MinValue, DateTime.MinValue.AddDays(3), 8));
        Assert.Empty(TimeTickGenerator.For(T0.UtcDateTime, T0.UtcDateTime, 8));
        Assert.InRange(TimeTickGenerator.For(DateTime.MinValue, DateTime.MaxValue, 8).Count, 1, 9);
    }

    [Fact]
    public void Time_labels_carry_the_precision_their_spacing_needs()
    {
        var start = T0.UtcDateTime;
        Assert.Equal(["09:00:00.00", "09:00:00.05", "09:00:00.10", "09:00:00.15", "09:00:00.20", "09:00:00.25", "09:00:00.30"], Labels(start, 0.3, 8));
        Assert.Equal(["09:00:00", "09:00:01", "09:00:02", "09:00:03", "09:00:04", "09:00:05"], Labels(start, 5, 8));
        Assert.Equal(["09:00:00.0", "09:00:00.5", "09:00:01.0", "09:00:01.5", "09:00:02.0", "09:00:02.5", "09:00:03.0"], Labels(start, 3, 8));
        Assert.Equal(["09:00", "09:10", "09:20", "09:30", "09:40", "09:50", "10:00"], Labels(start, 3_600, 8));

        static string[] Labels(DateTime from, double seconds, int most) => [.. TimeTickGenerator.For(from, from.AddSeconds(seconds), most).Select(t => t.Label)];
    }

    [Theory]
    [InlineData(ChartTheme.Light, "#ffffff")]
    [InlineData(ChartTheme.Dark, "#161d26")] // the dashboard's panel colour (app.css --panel)
    public void The_chart_is_drawn_in_the_theme_it_is_asked_for(ChartTheme theme, string background)
    {
        var execution = Execution([Event(0, "place", "c1", 100.0m)], [], [Mid(0, 99.9m, 100.1m), Mid(1, 100.0m, 100.2m)]);

        using var bitmap = SKBitmap.Decode(ExecutionChart.RenderPng(execution, 600, 300, theme));

        var corner = bitmap.GetPixel(2, 2);
        Assert.Equal(background, $"#{corner.Red:x2}{corner.Green:x2}{corner.Blue:x2}");
    }

    private static StoredExecution Execution(EventRow[] events, ChildOrderRow[] children, MidRow[]? mids = null) => new(
        new OrderRow { Id = 1, Symbol = "TESTUSDT", Side = 1, Size = 1m, SizeType = "q", Status = OrderStatus.Canceled, CreatedAt = T0, StartedAt = T0, CompletedAt = T0.AddSeconds(4) },
        [], mids ?? [], events, children, []);

    private static EventRow Event(double seconds, string kind, string child, decimal? price) =>
        new() { OrderId = 1, Time = T0.AddSeconds(seconds), Kind = kind, ClientOrderId = child, Price = price, Trigger = "book_top", Rule = "post_at_best" };

    private static MidRow Mid(double seconds, decimal bid, decimal ask) =>
        new() { OrderId = 1, Bid = bid, Ask = ask, Mid = (bid + ask) / 2, ExchangeTime = T0.AddSeconds(seconds), ReceivedTime = T0.AddSeconds(seconds) };
}
