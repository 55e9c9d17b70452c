using System.Collections.Concurrent;
using System.Text;

namespace Chaser.Binance.Parsing;

/// <summary>
/// Maps UTF-8 bytes to one shared string instance, so that parsing a client order id, symbol or asset allocates only
/// the first time that text is seen. The engine registers the ids it generates up front, so the string a parsed
/// event carries is the very instance in its command. Thread-safe; bounded (cleared when full) so that a stream of
/// foreign ids cannot grow it without limit.
/// </summary>
public sealed class Utf8StringCache
{
    private const int MaxStackChars = 256;
    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    public Utf8StringCache(int capacity = 65_536)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _strings.Count;

    /// <summary>Makes <paramref name="text"/> the instance returned for its bytes from now on.</summary>
    public string Register(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        EnsureRoom();
        return _strings.GetOrAdd(text, text);
    }

    /// <summary>The shared string for these UTF-8 bytes; allocates only when the text is new.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (utf8.Length > MaxStackChars)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        Span<char> chars = stackalloc char[MaxStackChars];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        var text = chars[..length];
        if (_lookup.TryGetValue(text, out var cached))
        {
            return cached;
        }

        EnsureRoom();
        var created = new string(text);
        return _strings.GetOrAdd(created, created);
    }

    private void EnsureRoom()
    {
        if (_strings.Count >= _capacity)
        {
            _strings.Clear();
        }
    }
}
