using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Server;

/// <summary>
/// The parameters of one request: query string and form body merged (the query wins), with the raw text kept
/// for signature checks, and Binance's errors for missing or malformed values.
/// </summary>
internal sealed class RequestParameters
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public RequestParameters(string rawQuery, string rawBody)
    {
        RawQuery = rawQuery.StartsWith('?') ? rawQuery[1..] : rawQuery;
        RawBody = rawBody;
        Add(RawBody);
        Add(RawQuery); // later wins: the query overrides the body
    }

    private RequestParameters()
    {
        RawQuery = string.Empty;
        RawBody = string.Empty;
    }

    public string RawQuery { get; }

    public string RawBody { get; }

    /// <summary>From already-decoded values (the WebSocket API's params object).</summary>
    public static RequestParameters FromValues(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var p = new RequestParameters();
        foreach (var (k, v) in pairs)
        {
            p.values[k] = v;
        }

        return p;
    }

    public IEnumerable<KeyValuePair<string, string>> All => values;

    public bool Has(string name) => values.ContainsKey(name);

    public string? Optional(string name) => values.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    public string Required(string name) => Optional(name) ?? throw BinanceErrors.Mandatory(name);

    public decimal? OptionalDecimal(string name)
    {
        if (Optional(name) is not { } text)
        {
            return null;
        }

        return decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw BinanceErrors.Mandatory(name);
    }

    public long? OptionalLong(string name)
    {
        if (Optional(name) is not { } text)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw BinanceErrors.IllegalChars(name);
    }

    public long RequiredLong(string name) => OptionalLong(name) ?? throw BinanceErrors.Mandatory(name);

    public bool OptionalBool(string name) => Optional(name) switch
    {
        null => false,
        "true" or "TRUE" or "True" => true,
        "false" or "FALSE" or "False" => false,
        _ => throw BinanceErrors.InvalidParameter(name),
    };

    public string Symbol(ExchangeEngine engine)
    {
        var s = Required("symbol").ToUpperInvariant();
        return engine.HasSymbol(s) ? s : throw BinanceErrors.InvalidSymbol();
    }

    public string? OptionalSymbol(ExchangeEngine engine)
    {
        var s = Optional("symbol")?.ToUpperInvariant();
        return s is null || engine.HasSymbol(s) ? s : throw BinanceErrors.InvalidSymbol();
    }

    /// <summary>REST: the signature (HMAC hex or Ed25519 base64, by the key) of query string + body, without the signature parameter itself.</summary>
    public bool VerifyRestSignature(ApiCredentials credentials, string apiKey)
    {
        var signature = Optional("signature") ?? throw BinanceErrors.Mandatory("signature");
        return credentials.Verify(apiKey, WithoutSignature(RawQuery) + WithoutSignature(RawBody), signature);
    }

    /// <summary>WebSocket API: the signature over the params except signature, sorted alphabetically, joined as k=v&amp;….</summary>
    public bool VerifySortedSignature(ApiCredentials credentials, string apiKey)
    {
        var signature = Optional("signature") ?? throw BinanceErrors.Mandatory("signature");
        var payload = string.Join('&', values.Where(kv => kv.Key != "signature").OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
        return credentials.Verify(apiKey, payload, signature);
    }

    public static string Sign(string secret, string payload) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(payload)));

    private static string WithoutSignature(string raw)
    {
        if (!raw.Contains("signature=", StringComparison.Ordinal))
        {
            return raw;
        }

        return string.Join('&', raw.Split('&').Where(p => !p.StartsWith("signature=", StringComparison.Ordinal)));
    }

    private void Add(string raw)
    {
        if (raw.Length == 0)
        {
            return;
        }

        foreach (var part in raw.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            values[key] = value;
        }
    }
}
