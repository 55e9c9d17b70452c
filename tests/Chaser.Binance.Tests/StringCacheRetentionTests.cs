using System.Text;
using Chaser.Binance.Parsing;

namespace Chaser.Binance.Tests;

/// <summary>
/// The connector's string cache over a long run: every child order's client id is new text, so a cache that kept
/// each one until it was full held the ids of every order done (tens of thousands) long after their tails.
/// </summary>
public sealed class StringCacheRetentionTests
{
    private static readonly string Frame = Encoding.UTF8.GetString(Payload.Bytes("orderTradeUpdate-trade.json"));

    [Fact]
    public void The_ids_of_children_long_done_are_let_go_however_many_orders_ran()
    {
        // As the connector makes it.
        var strings = new Utf8StringCache();
        var parser = new UserDataParser(strings);
        for (var child = 0; child < 20_000; child++)
        {
            // Each child's id is seen a few times (accepted, fills, final) and never again.
            var frame = FrameFor($"chs-done-{child}");
            parser.ParseOrderTradeUpdate(frame);
            parser.ParseOrderTradeUpdate(frame);
        }

        Assert.InRange(strings.Count, 1, 8_192);
    }

    [Fact]
    public void A_working_childs_id_keeps_its_instance_while_done_ones_are_let_go()
    {
        var strings = new Utf8StringCache(16);
        var parser = new UserDataParser(strings);
        var working = FrameFor("chs-working-1");
        var instance = parser.ParseOrderTradeUpdate(working).ClientOrderId;
        for (var child = 0; child < 1_000; child++)
        {
            parser.ParseOrderTradeUpdate(FrameFor($"chs-done-{child}"));
            if (child % 8 == 0)
            {
                // An event of the working child between every few others: the same string, not a new one per event.
                Assert.Same(instance, parser.ParseOrderTradeUpdate(working).ClientOrderId);
            }
        }

        Assert.InRange(strings.Count, 1, 2 * 16);
    }

    private static byte[] FrameFor(string clientOrderId) =>
        Encoding.UTF8.GetBytes(Frame.Replace("\"c\": \"chs-42-1\"", $"\"c\": \"{clientOrderId}\"", StringComparison.Ordinal));
}
