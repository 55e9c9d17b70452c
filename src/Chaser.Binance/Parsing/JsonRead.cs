using System.Buffers.Text;
using System.Text.Json;

namespace Chaser.Binance.Parsing;

/// <summary>Small helpers over <see cref="Utf8JsonReader"/>: Binance sends decimals as strings and some integers either way.</summary>
internal static class JsonRead
{
    /// <summary>Longest escaped string we unescape on the stack (ids, symbols, assets are far shorter).</summary>
    private const int MaxUnescaped = 256;

    /// <summary>Moves to the value of the property the reader is on.</summary>
    public static void Value(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("truncated JSON: a property has no value");
        }
    }

    /// <summary>A decimal from a JSON string (<c>"65000.10"</c>) or number.</summary>
    public static decimal Decimal(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number) || reader.ValueIsEscaped || reader.HasValueSequence)
        {
            throw new JsonException($"'{field}' is not a decimal");
        }

        return DecimalWire.TryParse(reader.ValueSpan, out var value) ? value : throw new JsonException($"'{field}' is not a decimal");
    }

    /// <summary>An integer from a JSON number or string (listenKeyExpired sends its event time as a string).</summary>
    public static long Long(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType is JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType is JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence
            && Utf8Parser.TryParse(reader.ValueSpan, out long parsed, out var consumed) && consumed == reader.ValueSpan.Length)
        {
            return parsed;
        }

        throw new JsonException($"'{field}' is not an integer");
    }

    public static bool Bool(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.String when reader.ValueTextEquals("true"u8) => true,
        JsonTokenType.String when reader.ValueTextEquals("false"u8) => false,
        _ => throw new JsonException($"'{field}' is not a boolean"),
    };

    /// <summary>A string through the cache: no allocation once the text has been seen.</summary>
    public static string Cached(ref Utf8JsonReader reader, Utf8StringCache cache, string field)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"'{field}' is not a string");
        }

        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return cache.Get(reader.ValueSpan);
        }

        Span<byte> unescaped = stackalloc byte[MaxUnescaped];
        var length = reader.CopyString(unescaped);
        return cache.Get(unescaped[..length]);
    }

    /// <summary>The raw bytes of a plain (unescaped) string value: for comparing enum spellings.</summary>
    public static ReadOnlySpan<byte> Text(ref Utf8JsonReader reader, string field) =>
        reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence
            ? reader.ValueSpan
            : throw new JsonException($"'{field}' is not a plain string");

    public static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (reader.TokenType != type)
        {
            throw new JsonException($"expected {what}, found {reader.TokenType}");
        }
    }

    /// <summary>Reads the first token of a document, which must open an object.</summary>
    public static void StartObject(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected a JSON object");
        }
    }

    public static DateTimeOffset Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
}
