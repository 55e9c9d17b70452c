using System.Text.RegularExpressions;
using Chaser.Core.Chasing;

namespace Chaser.Core.Tests;

public partial class ClientOrderIdsTests
{
    private const string Tag = "k3v9q2";

    [GeneratedRegex(@"^[\.A-Z\:/a-z0-9_-]{1,36}$")]
    private static partial Regex BinanceClientOrderId();

    [Theory]
    [InlineData(1L, 1)]
    [InlineData(ClientOrderIds.MaxParentIdForAnySequence, int.MaxValue)]
    [InlineData(long.MaxValue, 99_999)]
    [InlineData(1_000_000_000L, int.MaxValue)]
    public void Ids_fit_binance_rule_and_round_trip_with_the_tag(long parentId, int sequence)
    {
        var id = ClientOrderIds.For(Tag, parentId, sequence);
        Assert.Matches(BinanceClientOrderId(), id);
        Assert.True(ClientOrderIds.TryParse(id, out var tag, out var parsedParent, out var parsedSequence));
        Assert.Equal(Tag, tag);
        Assert.Equal(parentId, parsedParent);
        Assert.Equal(sequence, parsedSequence);
        Assert.True(ClientOrderIds.IsOurs(id, Tag, out var ours));
        Assert.Equal(parentId, ours);
    }

    [Fact]
    public void Every_parent_id_a_database_can_issue_has_ids_and_longer_ones_are_refused_not_truncated()
    {
        // The largest id SQLite or PostgreSQL can issue still has 99,999 children; beyond the 36 characters: refused.
        Assert.True(ClientOrderIds.Fits(long.MaxValue, 99_999));
        Assert.False(ClientOrderIds.Fits(long.MaxValue, 100_000));
        Assert.False(ClientOrderIds.Fits(ClientOrderIds.MaxParentIdForAnySequence + 1, int.MaxValue));
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => ClientOrderIds.For(Tag, long.MaxValue, 100_000));
        Assert.Contains("36 characters", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientOrderIds.For(Tag, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientOrderIds.For(Tag, 1, 0));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("K3V9Q2")]
    [InlineData("k3v9q")]
    [InlineData("k3v9q2x")]
    [InlineData("k3-9q2")]
    [InlineData("k3v9é2")]
    public void Bad_tags_are_refused_naming_the_parameter(string? tag)
    {
        Assert.False(ClientOrderIds.IsValidTag(tag));
        var refused = Assert.Throws<ArgumentException>(() => ClientOrderIds.For(tag!, 1, 1));
        Assert.Equal("tag", refused.ParamName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("web_abc123")]
    [InlineData("chs-")]
    [InlineData("chs-1-1")]
    [InlineData("chs-12-3")]
    [InlineData("chs-k3v9q2")]
    [InlineData("chs-k3v9q2-")]
    [InlineData("chs-k3v9q2-12")]
    [InlineData("chs-k3v9q2-x-1")]
    [InlineData("chs-k3v9q2-0-1")]
    [InlineData("chs-k3v9q2-12-")]
    [InlineData("chs-k3v9q2-12-0")]
    [InlineData("chs-k3v9q2-012-1")]
    [InlineData("chs-k3v9q2-12-01")]
    [InlineData("chs-k3v9q2-12-1-1")]
    [InlineData("chs-K3V9Q2-12-1")]
    [InlineData("chs-k3v9q2-99999999999999999999-1")]
    public void Foreign_and_malformed_ids_are_not_parsed(string? id)
    {
        Assert.False(ClientOrderIds.TryParse(id, out _, out _, out _));
        Assert.False(ClientOrderIds.IsOurs(id, Tag, out _));
    }

    [Fact]
    public void An_id_with_another_instances_tag_is_not_ours()
    {
        // The collision of the issue: two databases on one account, both working their parent order 1.
        var theirs = ClientOrderIds.For("other1", 1, 1);
        Assert.True(ClientOrderIds.TryParse(theirs, out _, out _, out _));
        Assert.False(ClientOrderIds.IsOurs(theirs, Tag, out _));
        Assert.NotEqual(theirs, ClientOrderIds.For(Tag, 1, 1));
    }

    [Fact]
    public void New_tags_are_valid_and_random()
    {
        var tags = Enumerable.Range(0, 1_000).Select(_ => ClientOrderIds.NewTag()).ToList();
        Assert.All(tags, t => Assert.True(ClientOrderIds.IsValidTag(t), t));
        Assert.Equal(tags.Count, tags.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Ids_are_unique_per_tag_parent_and_sequence()
    {
        var ids = new HashSet<string>();
        foreach (var tag in new[] { Tag, "other1" })
        {
            for (var parent = 1; parent <= 30; parent++)
            {
                for (var seq = 1; seq <= 30; seq++)
                {
                    Assert.True(ids.Add(ClientOrderIds.For(tag, parent, seq)));
                }
            }
        }
    }
}
