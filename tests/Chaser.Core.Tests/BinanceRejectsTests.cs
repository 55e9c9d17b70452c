using Chaser.Core.Chasing;

namespace Chaser.Core.Tests;

public class BinanceRejectsTests
{
    [Theory]
    [InlineData(-5022, 400, RejectKind.PostOnlyWouldCross)]
    [InlineData(-2011, 400, RejectKind.UnknownOrder)]
    [InlineData(-2013, 400, RejectKind.UnknownOrder)]
    [InlineData(-1003, 429, RejectKind.Retryable)]
    [InlineData(-1015, 400, RejectKind.Retryable)]
    [InlineData(-1008, 400, RejectKind.Retryable)]
    [InlineData(-1021, 400, RejectKind.Retryable)]
    [InlineData(0, 503, RejectKind.Retryable)]
    [InlineData(-2019, 400, RejectKind.Fatal)]
    [InlineData(-4164, 400, RejectKind.Fatal)]
    [InlineData(-4400, 400, RejectKind.Fatal)]
    public void Binance_codes_map_to_reject_kinds(int code, int status, RejectKind expected)
    {
        Assert.Equal(expected, BinanceRejects.Classify(code, status));
    }
}
