using System.Globalization;
using System.Text;

namespace Chaser.Tests.Shared;

/// <summary>
/// A short recording written by a test, named as Binance's dumps are (<c>&lt;SYMBOL&gt;-UM-&lt;stamp&gt;-bookTicker.csv</c>
/// and <c>-trades.csv</c>): a quote every 100 ms on a seeded random walk of one tick, and a print of 1 lot-size unit
/// every 100 ms on either side, so that small orders fill as makers within seconds.
/// </summary>
internal static class SyntheticRecording
{
    /// <summary>Writes one window into <paramref name="directory"/>; returns its name (<c>BTCUSDT-UM-20990101T0000Z</c>).</summary>
    public static string Write(string directory, string symbol, string stamp, decimal price, decimal tick, decimal printQty, TimeSpan length, int seed, long startMs = 4_070_908_800_000)
    {
        var name = $"{symbol}-UM-{stamp}";
        var random = new Random(seed);
        var book = new StringBuilder("update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n");
        var trades = new StringBuilder("id,price,qty,quote_qty,time,is_buyer_maker\n");
        var bid = price;
        var steps = (int)(length.TotalMilliseconds / 100);
        for (var i = 0; i < steps; i++)
        {
            var time = startMs + (i * 100L);
            bid += tick * random.Next(-1, 2);
            var ask = bid + tick;
            book.Append(CultureInfo.InvariantCulture, $"{1_000 + i},{bid},{printQty / 2},{ask},{printQty / 2},{time},{time}\n");
            var sellerHitsBid = random.Next(2) == 0;
            var at = sellerHitsBid ? bid : ask;
            trades.Append(CultureInfo.InvariantCulture, $"{5_000 + i},{at},{printQty},{at * printQty},{time + 50},{(sellerHitsBid ? "true" : "false")}\n");
        }

        File.WriteAllText(Path.Combine(directory, name + "-bookTicker.csv"), book.ToString());
        File.WriteAllText(Path.Combine(directory, name + "-trades.csv"), trades.ToString());
        return name;
    }

    /// <summary>A fresh directory under the temp directory.</summary>
    public static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"chaser-recording-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return directory;
    }
}

/// <summary>A temporary directory of hand-written recording files (<c>BTCUSDT-&lt;kind&gt;.csv</c>), deleted on dispose.</summary>
internal sealed class RecordingFiles(string symbol, string prefix) : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory(prefix);

    /// <summary>Writes the lines as the file of this kind; returns its path.</summary>
    public string Write(string kind, params string[] lines)
    {
        var path = Path.Combine(_directory.FullName, $"{symbol}-{kind}.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
