using System.Text;

namespace Chaser.Binance.Signing;

/// <summary>
/// The API key sent in <c>X-MBX-APIKEY</c>. Not a signing secret, but it identifies the account, so only its first and
/// last four characters ever appear in text.
/// </summary>
public sealed class ApiKey
{
    public ApiKey(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        Value = value;
    }

    /// <summary>The key itself, for the request header only.</summary>
    public string Value { get; }

    public override string ToString() =>
        Value.Length <= 8 ? "ApiKey(****)" : $"ApiKey({Value[..4]}…{Value[^4..]})";
}

/// <summary>
/// A signing secret (HMAC secret or private key bytes). Its bytes are reachable only through <see cref="Expose"/>, and
/// <see cref="ToString"/> never shows them, so a secret logged by accident or captured in an exception message leaks
/// nothing.
/// </summary>
public sealed class Secret
{
    private readonly byte[] _bytes;

    private Secret(byte[] bytes) => _bytes = bytes;

    /// <summary>A secret given as text (Binance's HMAC secret is used as its ASCII bytes).</summary>
    public static Secret FromText(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return new Secret(Encoding.UTF8.GetBytes(text));
    }

    public static Secret FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            throw new ArgumentException("a secret must not be empty", nameof(bytes));
        }

        return new Secret(bytes.ToArray());
    }

    public int Length => _bytes.Length;

    /// <summary>The secret's bytes, for the signer only. Never copy them into anything that is printed.</summary>
    internal ReadOnlySpan<byte> Expose() => _bytes;

    public override string ToString() => "Secret(redacted)";
}
