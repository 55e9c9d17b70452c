using System.Text;
using Chaser.Binance.Parsing;

namespace Chaser.Binance.Tests;

/// <summary>
/// The bookTicker path's per-parser memo of symbols: whatever symbols a connection carries, however they share its
/// slots, each read gives the shared cache's string for those bytes, and reading them again allocates nothing.
/// </summary>
public sealed class SymbolMemoTests
{
    [Fact]
    public void Many_symbols_interleaved_read_as_the_shared_cache_reads_them_without_allocating()
    {
        var shared = new Utf8StringCache();
        var memo = new SymbolMemo(shared);

        // More symbols than slots, of every length a symbol has (and past what the memo keeps), so slots are shared.
        var symbols = Enumerable.Range(0, 300)
            .Select(i => Encoding.ASCII.GetBytes(new string((char)('A' + (i % 26)), 1 + (i % 40)) + i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();
        foreach (var symbol in symbols)
        {
            Assert.Same(shared.Get(symbol), memo.Get(symbol));
        }

        var random = new Random(17);
        var order = Enumerable.Range(0, 20_000).Select(_ => random.Next(symbols.Length)).ToArray();
        foreach (var i in order)
        {
            Assert.Same(shared.Get(symbols[i]), memo.Get(symbols[i]));
        }

        var allocated = Allocations.Minimum(() =>
        {
            foreach (var i in order)
            {
                memo.Get(symbols[i]);
            }
        });
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_symbol_never_reads_as_another_sharing_its_slot()
    {
        var memo = new SymbolMemo(new Utf8StringCache());
        for (var i = 0; i < 5_000; i++)
        {
            // Same length, same first and last eight bytes for many of them: the slot collides, the bytes do not.
            var text = $"AAAAAAAA{i:D5}ZZZZZZZZ";
            Assert.Equal(text, memo.Get(Encoding.ASCII.GetBytes(text)));
            Assert.Equal("BTCUSDT", memo.Get("BTCUSDT"u8));
        }
    }
}
