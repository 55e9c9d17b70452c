using System.Collections.Concurrent;
using System.Text;

namespace Chaser.Binance.Parsing;

/// <summary>
/// Maps UTF-8 bytes to one shared string instance, so that parsing a client order id, symbol or asset allocates only
/// the first time that text is seen. The engine registers the ids it generates up front, so the string a parsed
/// event carries is the very instance in its command. Thread-safe and bounded by two generations: new text goes into
/// the current one, and when that holds <c>generation</c> entries it becomes the previous one and the old previous
/// is dropped; text found in the previous generation moves back into the current one. So what is still in use (a
/// symbol, a working child's id) keeps its instance, while the ids of children long done (each one new text, seen a
/// few times and never again) are let go after at most two generations of newer text, however many orders a long
/// <c>serve</c> works.
/// </summary>
public sealed class Utf8StringCache
{
    private const int MaxStackChars = 256;
    private readonly int _generation;
    private readonly Lock _rotating = new();
    private volatile Generation _current = new();
    private volatile Generation _previous = new();

    /// <param name="generation">Entries a generation holds before it is retired: the cache keeps at most twice this.</param>
    public Utf8StringCache(int generation = 4_096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(generation);
        _generation = generation;
    }

    /// <summary>Entries held in both generations (a text moved back into the current one may count twice for a while).</summary>
    public int Count => _current.Strings.Count + _previous.Strings.Count;

    /// <summary>Makes <paramref name="text"/> the instance returned for its bytes from now on.</summary>
    public string Register(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_previous.Lookup.TryGetValue(text.AsSpan(), out var kept) || _current.Lookup.TryGetValue(text.AsSpan(), out kept))
        {
            text = kept;
        }

        return Add(text);
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
        if (_current.Lookup.TryGetValue(text, out var cached))
        {
            return cached;
        }

        // Still in use after its generation was retired: the same instance moves back into the current one.
        return _previous.Lookup.TryGetValue(text, out cached) ? Add(cached) : Add(new string(text));
    }

    private string Add(string text)
    {
        var current = _current;
        if (current.Strings.Count >= _generation)
        {
            lock (_rotating)
            {
                current = _current;
                if (current.Strings.Count >= _generation)
                {
                    // The retired previous generation is emptied and reused as the new current one.
                    var recycled = _previous;
                    recycled.Strings.Clear();
                    _previous = current;
                    _current = recycled;
                    current = recycled;
                }
            }
        }

        return current.Strings.GetOrAdd(text, text);
    }

    private sealed class Generation
    {
        public Generation() => Lookup = Strings.GetAlternateLookup<ReadOnlySpan<char>>();

        public ConcurrentDictionary<string, string> Strings { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }
    }
}
