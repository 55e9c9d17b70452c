using System.Text.RegularExpressions;
using Chaser.Core.Chasing;

namespace Chaser.Core.Tests;

public partial class ClientOrderIdsTests
{
    [GeneratedRegex(@"^[\.A-Z\:/a-z0-9_-]{1,36}$")]
    private static partial Regex BinanceClientOrderId();

    [Theory]
    [InlineData(1L, 1)]
    [InlineData(long.MaxValue, int.MaxValue)]
    public void Ids_fit_binance_rule_and_round_trip(long parentId, int sequence)
    {
        var id = ClientOrderIds.For(parentId, sequence);
        Assert.Matches(BinanceClientOrderId(), id);
        Assert.True(ClientOrderIds.TryParse(id, out var parsedParent, out var parsedSequence));
        Assert.Equal(parentId, parsedParent);
        Assert.Equal(sequence, parsedSequence);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("web_abc123")]
    [InlineData("chs-")]
    [InlineData("chs-12")]
    [InlineData("chs-x-1")]
    [InlineData("chs-0-1")]
    [InlineData("chs-12-")]
    public void Foreign_ids_are_not_ours(string? id)
    {
        Assert.False(ClientOrderIds.TryParse(id, out _, out _));
    }

    [Fact]
    public void Ids_are_unique_per_parent_and_sequence()
    {
        var ids = new HashSet<string>();
        for (var parent = 1; parent <= 30; parent++)
        {
            for (var seq = 1; seq <= 30; seq++)
            {
                Assert.True(ids.Add(ClientOrderIds.For(parent, seq)));
            }
        }
    }
}
