using Chaser.Simulator.Sources;

namespace Chaser.Simulator.Tests;

/// <summary>The recorded-CSV reader: plain decimals exactly, and a bad cell named by file, line and column.</summary>
public sealed class ReplaySourceTests : IDisposable
{
    private const string BookHeader = "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time";
    private readonly string _directory = Directory.CreateTempSubdirectory("chaser-replay-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Plain_binance_decimals_are_read_exactly()
    {
        var path = Write("book.csv", BookHeader, "1,28145.10,3.868,28145.20,6.887,1680652700430,1680652700435");

        var book = Assert.IsType<BookEvent>(Assert.Single(ReplaySource.BookTickers("BTCUSDT", path)));

        Assert.Equal(1680652700430, book.Time);
        Assert.Equal(28145.10m, book.Bids[0].Price);
        Assert.Equal(3.868m, book.Bids[0].Qty);
        Assert.Equal(6.887m, book.Asks[0].Qty);
    }

    [Theory]
    [InlineData("2,28145.1O,3.8,28145.2,6.8,1680652700452,1680652700455", "line 3, column 'best_bid_price': '28145.1O' is not a number")]
    [InlineData("2,28145.10,1e-3,28145.2,6.8,1680652700452,1680652700455", "line 3, column 'best_bid_qty': '1e-3' has an exponent")]
    [InlineData("2,28145.10,-3.8,28145.2,6.8,1680652700452,1680652700455", "line 3, column 'best_bid_qty': '-3.8' must not be negative")]
    [InlineData("2,28145.10,3.8,28145.2,,1680652700452,1680652700455", "line 3, column 'best_ask_qty': '' is empty")]
    [InlineData("2,28145.10,3.8,28145.2,6.8,1680652700452.5,1680652700455", "line 3, column 'transaction_time': '1680652700452.5' is not a whole number")]
    [InlineData("2,28145.10,3.8,28145.2", "line 3: 4 columns where a bookTicker row has 7")]
    public void A_bad_cell_names_the_file_line_and_column(string badLine, string expected)
    {
        var path = Write("book.csv", BookHeader, "1,28145.10,3.868,28145.20,6.887,1680652700430,1680652700435", badLine);

        var error = Assert.Throws<RecordedDataException>(() => ReplaySource.BookTickers("BTCUSDT", path).ToList());

        Assert.Equal($"{path}: {expected}", error.Message[..(path.Length + 2 + expected.Length)]);
    }

    [Fact]
    public void A_trade_side_that_is_not_a_boolean_is_refused()
    {
        var path = Write("trades.csv", "id,price,qty,quote_qty,time,is_buyer_maker", "1,28145.10,0.002,56.2902,1680652700452,maybe");

        var error = Assert.Throws<RecordedDataException>(() => ReplaySource.Trades("BTCUSDT", path).ToList());

        Assert.Equal($"{path}: line 2, column 'is_buyer_maker': 'maybe' must be true or false", error.Message);
    }

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
